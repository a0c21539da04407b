"""Shared set-up of the innovation and expert web tests: the service-test world, bearer tokens,
cookie logins, and the legal day moved forward (to close a notice after its last day)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from medreg.core import auth
from medreg.core.actor import Actor
from medreg.core.clock import today_shanghai
from medreg.premarket.innovation.rules import required_documents
from tests.premarket.innovation_world import PDF, World, build, draft_data
from tests.web.conftest import login

GRANTED = today_shanghai() - timedelta(days=400)  # inside the 5-year window of No.83 Art.2(1)


def draft(**overrides) -> dict:
    data = draft_data(patent_grant_date=GRANTED.isoformat(), **overrides)
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in data.items()}


@dataclass
class WebWorld:
    w: World
    tokens: dict[str, str] = field(default_factory=dict)

    def __getattr__(self, name):  # w.office, w.registrant ...
        return getattr(self.w, name)

    def h(self, actor: Actor) -> dict:
        """Bearer header of ``actor``."""
        if actor.username not in self.tokens:
            raise KeyError(actor.username)
        return {"Authorization": f"Bearer {self.tokens[actor.username]}"}


def web_world(db: Session) -> WebWorld:
    w = build(db)
    actors = [w.office, w.province, w.other_province, w.registrant, w.other_registrant, w.foreign]
    actors += [a for _e, a in w.experts]
    ww = WebWorld(w=w)
    for actor in actors:
        ww.tokens[actor.username] = auth.issue_token(db, actor, actor.user_id, "test")
    db.commit()
    return ww


def upload_dossier(client: TestClient, headers: dict, app_id: int, *, is_domestic: bool = True) -> None:
    for i, doc in enumerate(required_documents(is_domestic=is_domestic, patent_kind="granted")):
        r = client.post(
            f"/api/innovation/applications/{app_id}/documents",
            headers=headers,
            data={"doc_type": doc.value, "title": f"{doc.value} file"},
            files={"file": (f"{doc.value}.pdf", PDF + f"web{i}".encode(), "application/pdf")},
        )
        assert r.status_code == 201, r.text


def move_today(monkeypatch, days: int) -> date:
    """The services' legal day, ``days`` calendar days after the real one."""
    later = today_shanghai() + timedelta(days=days)
    import medreg.premarket.innovation.queries as q
    import medreg.premarket.innovation.service as s
    import medreg.premarket.innovation.service_review as sr

    for module in (s, sr, q):
        monkeypatch.setattr(module, "today_shanghai", lambda now=None: later)
    return later


def log_in(client: TestClient, actor: Actor) -> str:
    """Log ``client`` in as ``actor``; returns the session's CSRF token."""
    r = login(client, actor.username)
    assert r.status_code == 303, r.text
    return csrf_from(client.get("/").text)


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page carries a csrf_token field"
    return match.group(1)


def browser(app, actor: Actor | None = None) -> tuple[TestClient, str]:
    """A separate browser (cookie jar) logged in as ``actor`` (anonymous if None), and its CSRF token."""
    client = TestClient(app, follow_redirects=False)
    if actor is None:
        return client, csrf_from(client.get("/login").text)
    return client, log_in(client, actor)


def to_stage(db: Session, ww: WebWorld, stage: str):
    """An application moved by the services (real legal day) to ``stage``: draft, submitted
    (province_review), accepted, expert_review, public_notice. Committed for the web requests."""
    from medreg.premarket.innovation import service
    from tests.premarket.innovation_world import complete_draft

    w = ww.w
    app = complete_draft(db, w, patent_grant_date=GRANTED)
    steps = ["draft", "province_review", "accepted", "expert_review", "public_notice"]
    if steps.index(stage) >= 1:
        service.submit(db, w.registrant, app.id)
    if steps.index(stage) >= 2:
        service.province_pass(db, w.province, app.id, "Meets Art.2 of No.83.")
        service.accept(db, w.office, app.id)
    if steps.index(stage) >= 3:
        service.assign_experts(db, w.office, app.id, [e.id for e, _a in w.experts[:3]])
    if steps.index(stage) >= 4:
        from medreg.premarket.experts import queries as eq

        by_user = {a.user_id: a for _e, a in w.experts}
        for e, _a in w.experts[:3]:
            mine = eq.my_assignments(db, by_user[e.user_id])
            service.give_opinion(
                db, by_user[e.user_id], mine[0].id, "agree", "Novel and valuable.", w.password
            )
        service.conclude(db, w.office, app.id, "propose", "The experts agree.")
    db.commit()
    return app


def version_in(html: str) -> str:
    match = re.search(r'data-testid="version">(\d+)<', html)
    assert match, "the case page shows the version"
    return match.group(1)


def status_in(html: str) -> str:
    match = re.search(r'data-testid="status" data-status="([a-z_]+)"', html)
    assert match, "the page shows the status"
    return match.group(1)
