"""The registration daily job: runs both steps, checkpoints each, resumes after a crash."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date

import pytest

from medreg.core import jobs
from medreg.core.errors import ValidationFailed
from medreg.premarket.registration import jobs as registration_jobs
from medreg.premarket.registration import service


class FakeContext:
    """Stands in for the worker's JobContext; the unit of work is the test session."""

    def __init__(self, db, params, checkpoint=None):
        self.db, self.params, self.checkpoint = db, params, checkpoint
        self.progress_calls, self.result = [], None

    @contextmanager
    def session(self):
        yield self.db

    def progress(self, done, total=None, message=None):
        self.progress_calls.append((done, total, message))

    def save_checkpoint(self, state, done=None, total=None, message=None, *, session=None):
        self.checkpoint = {"done": list(state["done"]), "counts": dict(state["counts"])}

    def set_result(self, result):
        self.result = result


def test_runs_both_steps_as_the_system(db, monkeypatch):
    seen = []
    monkeypatch.setattr(
        service, "mark_late_obligations", lambda s, a, t: seen.append(("late", a, t)) or [1, 2]
    )
    monkeypatch.setattr(service, "apply_deemed_renewals", lambda s, a, t: seen.append(("renew", a, t)) or [])
    ctx = FakeContext(db, {"today": "2027-01-04"})
    registration_jobs.daily(ctx)
    assert [(k, a.username, t) for k, a, t in seen] == [
        ("late", "system", date(2027, 1, 4)), ("renew", "system", date(2027, 1, 4))]
    assert ctx.result == {"today": "2027-01-04", "late_obligations": 2, "deemed_renewals": 0}
    assert ctx.checkpoint["done"] == ["late_obligations", "deemed_renewals"]


def test_resumes_after_the_last_checkpoint(db, monkeypatch):
    def crash(*_):
        raise RuntimeError("worker died")

    monkeypatch.setattr(service, "mark_late_obligations", lambda *_: [1])
    monkeypatch.setattr(service, "apply_deemed_renewals", crash)
    ctx = FakeContext(db, {"today": "2027-01-04"})
    with pytest.raises(RuntimeError):
        registration_jobs.daily(ctx)
    assert ctx.checkpoint == {"done": ["late_obligations"], "counts": {"late_obligations": 1}}
    calls = []
    monkeypatch.setattr(service, "mark_late_obligations", lambda *_: calls.append("late") or [])
    monkeypatch.setattr(service, "apply_deemed_renewals", lambda *_: calls.append("renew") or [7])
    retry = FakeContext(db, {"today": "2027-01-04"}, checkpoint=ctx.checkpoint)
    registration_jobs.daily(retry)
    assert calls == ["renew"]  # the done step is not repeated
    assert retry.result["late_obligations"] == 1 and retry.result["deemed_renewals"] == 1


def test_registered_and_params_validated(db):
    assert "registration.daily" in jobs.registered_kinds()
    from medreg.core.actor import Actor

    with pytest.raises(ValidationFailed) as e:
        jobs.enqueue(db, Actor.system(), "registration.daily", {"today": "4 Jan"})
    assert e.value.field == "today"
    with pytest.raises(ValidationFailed) as e:
        jobs.enqueue(db, Actor.system(), "registration.daily", {"day": "2027-01-04"})
    assert e.value.field == "params"
    assert jobs.enqueue(db, Actor.system(), "registration.daily", {"today": "2027-01-04"}).id
