"""Two CMDE reviewers act on the same case at the same moment: one wins, the other gets 409.

Real concurrency needs committed data, two connections and row locks, so these tests run on
PostgreSQL only, in a database of their own (created here, dropped at the end: the shared test
database keeps its rolled-back-per-test contract). Each race: two threads, two sessions, a barrier
so that both have loaded the same version before either writes, the same ``expected_version``.
The loser sees either ``Conflict`` (it read the new version) or SQLAlchemy's ``StaleDataError``
(the UPDATE ... WHERE version = seen matched no row): both are HTTP 409. The hash-chained audit
trail still verifies afterwards, and holds exactly one event for the winning action.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from medreg.core import audit, auth
from medreg.core.accounts import OrgKind, Role, User
from medreg.core.actor import Actor
from medreg.core.db import make_engine
from medreg.core.deps import get_session
from medreg.core.errors import Conflict
from medreg.models import metadata
from medreg.premarket.innovation import service as isvc
from medreg.premarket.innovation.models import InnovationApplication
from medreg.web.app import create_app
from tests.conftest import PG_SERVER_URL, _pg_admin
from tests.factories import actor_for, make_user
from tests.premarket import innovation_world as iw

pytestmark = pytest.mark.postgres_only


@pytest.fixture(scope="module")
def pg_engine(dialect_name) -> Iterator[Engine]:
    """A fresh PostgreSQL database for committed data, dropped afterwards."""
    if dialect_name != "postgresql":
        pytest.skip(
            "needs PostgreSQL: committed data, two connections, row locks (MEDREG_TEST_DB=postgresql)"
        )
    name = f"medreg_race_{uuid.uuid4().hex[:10]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    engine = make_engine(f"{PG_SERVER_URL}/{name}")
    try:
        metadata.create_all(engine)
        yield engine
    finally:
        engine.dispose()
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def dialect_name(engine: Engine) -> str:
    return engine.dialect.name


@dataclass
class Case:
    app_id: int
    version: int
    reviewers: tuple[Actor, Actor]


@pytest.fixture(scope="module")
def people(pg_engine) -> tuple[iw.World, Actor]:
    """The office, a province, an applicant (committed) and a second CMDE reviewer."""
    with Session(pg_engine, expire_on_commit=False) as s:
        w = iw.build(s)
        office_org = s.get(User, w.office.user_id).organisation
        assert office_org.kind == OrgKind.REGULATOR_UNIT
        second = actor_for(make_user(s, Role.REVIEWER, org=office_org))
        s.commit()
        return w, second


@pytest.fixture
def case(pg_engine, people) -> Case:
    """A submitted innovation application (at the office), committed."""
    w, second = people
    with Session(pg_engine, expire_on_commit=False) as s:
        app = iw.complete_draft(s, w)
        isvc.submit(s, w.registrant, app.id, today=iw.TODAY)
        isvc.province_pass(s, w.province, app.id, "Meets Art.2 of No.83.", today=iw.TODAY)
        s.commit()
        return Case(app.id, app.version, (w.office, second))


def race(work) -> list[object]:
    """Run ``work(i, barrier)`` in two threads; the outcome of each (a value or the exception)."""
    barrier = threading.Barrier(2, timeout=30)
    results: list[object] = [None, None]

    def run(i: int) -> None:
        try:
            results[i] = work(i, barrier)
        except BaseException as exc:  # the outcome is checked by the test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a writer hangs (lock never released?)"
    return results


def audit_state(pg_engine, app_id: int) -> tuple[list[str], list]:
    with Session(pg_engine) as s:
        actions = [e.action for e in audit.history(s, "innovation_application", app_id)]
        return actions, audit.verify(s)


def test_two_reviewers_accept_the_same_case_through_the_service(pg_engine, case: Case):
    def accept(i: int, barrier: threading.Barrier):
        with Session(pg_engine, expire_on_commit=False) as s:
            seen = s.get(InnovationApplication, case.app_id).version  # both read the same version ...
            barrier.wait()  # ... before either writes
            app = isvc.accept(s, case.reviewers[i], case.app_id, expected_version=seen, today=iw.TODAY)
            s.commit()
            return app.acceptance_no

    results = race(accept)
    won = [r for r in results if isinstance(r, str)]
    lost = [r for r in results if isinstance(r, Conflict | StaleDataError)]
    assert len(won) == 1 and len(lost) == 1, results
    with Session(pg_engine) as s:
        app = s.get(InnovationApplication, case.app_id)
        assert (app.status, app.version, app.acceptance_no) == ("accepted", case.version + 1, won[0])
    actions, problems = audit_state(pg_engine, case.app_id)
    assert actions.count("accept") == 1 and problems == []


def test_two_reviewers_accept_the_same_case_over_http(pg_engine, case: Case):
    factory = sessionmaker(pg_engine, expire_on_commit=False)

    def transaction() -> Iterator[Session]:  # as medreg.core.deps.transaction, on this database
        session = factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    app = create_app()
    app.dependency_overrides[get_session] = transaction
    with factory() as s:
        tokens = [auth.issue_token(s, r, r.user_id, "race") for r in case.reviewers]
        s.commit()
    clients = [TestClient(app, raise_server_exceptions=False) for _ in tokens]
    target = f"/api/innovation/applications/{case.app_id}/accept"

    def post(i: int, barrier: threading.Barrier):
        barrier.wait()
        return clients[i].post(
            target, json={"expected_version": case.version}, headers={"Authorization": f"Bearer {tokens[i]}"}
        )

    try:
        responses = race(post)
    finally:
        for c in clients:
            c.close()
    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 409], [(r.status_code, r.text[:300]) for r in responses]
    loser = next(r for r in responses if r.status_code == 409).json()
    # Conflict (stale version) when both loaded first; invalid_transition when the loser's request
    # started after the winner's commit (accept checks the state before the version): both 409.
    assert loser["error"] in ("conflict", "invalid_transition") and loser["message"]
    with Session(pg_engine) as s:
        assert s.get(InnovationApplication, case.app_id).version == case.version + 1
        accepted = s.scalar(
            select(func.count())
            .select_from(InnovationApplication)
            .where(InnovationApplication.id == case.app_id, InnovationApplication.status == "accepted")
        )
        assert accepted == 1
    actions, problems = audit_state(pg_engine, case.app_id)
    assert actions.count("accept") == 1 and problems == []


def test_a_late_writer_with_a_stale_version_is_refused_and_writes_nothing(pg_engine, case: Case):
    """The sequential case: the second reviewer acts on the version it saw, after the first committed."""
    first, second = case.reviewers
    with Session(pg_engine, expire_on_commit=False) as s:
        isvc.accept(s, first, case.app_id, expected_version=case.version, today=iw.TODAY)
        s.commit()
    before, _ = audit_state(pg_engine, case.app_id)
    with Session(pg_engine) as s, pytest.raises(Conflict) as err:
        isvc.request_supplement(
            s, second, case.app_id, "Add the clinical summary.", expected_version=case.version, today=iw.TODAY
        )
    assert err.value.field == "expected_version" and err.value.http_status == 409
    after, problems = audit_state(pg_engine, case.app_id)
    assert after == before and problems == []
