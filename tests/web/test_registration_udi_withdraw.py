"""Withdrawing a UDI-DI declared by mistake: the certificate's registrant on ``/registration/udi-dis``
(or ``medreg registration withdraw-di``, or the API) with the reasons; the declaration goes, the audit
trail keeps who declared and who withdrew it and why; another registrant is refused (403), a DI not
declared is 404, no reason is 422 on ``reason``; nothing is written on a refusal. A monitor of the DI
keeps running (it is keyed on the DI); its page then says no registrant declared the DI."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from medreg.cli import app as cli
from medreg.core import cli_support
from medreg.core.audit import AuditEvent
from medreg.premarket.registration import service_udi
from medreg.premarket.registration.models import CertificateDi
from medreg.surveillance.demo import DEVICES
from tests.premarket.test_registration_world import build, initial, to_certificate
from tests.web.conftest import csrf_of, login
from tests.web.test_registration_support import bearer

DI = DEVICES[1][1]  # a made-up GTIN-14 of the demo registry (valid check digit)


@pytest.fixture
def world(db):
    w = build(db)
    _a, mine = to_certificate(db, w, w.registrant, initial())
    service_udi.declare_di(db, w.registrant, mine.id, DI)
    db.commit()
    return w, mine


def _count(db):
    return (db.scalar(select(func.count()).select_from(CertificateDi)),
            db.scalar(select(func.count()).select_from(AuditEvent)))


def _withdraw(client, di, reason):
    return client.post("/registration/udi-dis/withdraw", follow_redirects=False,
                       data={"di": di, "reason": reason, "csrf_token": csrf_of(client)},
                       headers={"Accept-Language": "en"})


def test_registrant_withdraws_its_di_on_the_page(client, db, world):
    w, mine = world
    login(client, w.other.username)
    before = _count(db)
    r = _withdraw(client, DI, "not ours")
    assert r.status_code == 403 and _count(db) == before
    client.cookies.clear()
    login(client, w.registrant.username)
    page = client.get("/registration/udi-dis", headers={"Accept-Language": "en"})
    assert f'id="withdraw-{DI}"' in page.text
    r = _withdraw(client, DI, "  ")
    assert r.status_code == 422 and 'data-field="reason"' in r.text and _count(db) == before
    r = _withdraw(client, "12345678901234", "x")
    assert r.status_code == 422 and _count(db) == before  # wrong check digit
    r = _withdraw(client, DI, "Typed the DI of another product")
    assert r.status_code == 303 and r.headers["location"].startswith(f"/registration/udi-dis?withdrawn={DI}")
    assert db.scalar(select(CertificateDi).where(CertificateDi.di == DI)) is None
    ev = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "registration.certificate.di_withdraw")).one()
    assert ev.before["di"] == DI and ev.before["declared_by"] == w.registrant.username
    assert ev.note == "Typed the DI of another product" and ev.entity_id == str(mine.id)
    assert _withdraw(client, DI, "again").status_code == 404


def test_withdraw_over_the_api_and_the_cli(client, db, world, monkeypatch):
    w, mine = world
    url = f"/api/registration/certificates/by-udi-di/{DI}/withdraw"
    r = client.post(url, json={"reason": ""}, headers=bearer(client, w.registrant.username))
    assert r.status_code == 422 and r.json()["field"] == "reason"
    r = client.post(url, json={"reason": "x"}, headers=bearer(client, w.other.username))
    assert r.status_code == 403

    @contextmanager
    def scope():
        yield db
        db.flush()

    monkeypatch.setattr(cli_support, "session_scope", scope)
    out = CliRunner().invoke(cli, ["registration", "withdraw-di", DI, "--user", w.registrant.username,
                                   "--reason", "mistake"])
    assert out.exit_code == 0, out.output
    assert f"UDI-DI {DI} withdrawn" in out.output
    assert db.scalar(select(CertificateDi).where(CertificateDi.di == DI)) is None
    r = client.post(url, json={"reason": "x"}, headers=bearer(client, w.registrant.username))
    assert r.status_code == 404
