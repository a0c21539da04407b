"""The registrant's UDI-DIs page and ``medreg registration declare-di`` / ``dis``: a registrant sees
and declares only its own certificates' DIs (same service as the API: check digit, one certificate per
DI, audited), bad input is refused at its field with nothing written, other roles are refused."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from medreg.cli import app as cli
from medreg.core import audit, cli_support
from medreg.core.audit import AuditEvent
from medreg.premarket.registration.models import CertificateDi
from medreg.surveillance.demo import DEVICES
from tests.premarket.test_registration_world import build, initial, to_certificate
from tests.web.conftest import csrf_of, login

DI = DEVICES[1][1]  # a made-up GTIN-14 of the demo registry (valid check digit)
GTIN13 = "6901234567892"  # /work/shared/data/udi/examples.csv, row cn_gtin13_expiry_lot (constructed)


@pytest.fixture
def world(db):
    w = build(db)
    _a, mine = to_certificate(db, w, w.registrant, initial())
    _b, theirs = to_certificate(db, w, w.other, initial(product_name="Other pump"))
    db.commit()
    return w, mine, theirs


def _count(db):
    return (db.scalar(select(func.count()).select_from(CertificateDi)),
            db.scalar(select(func.count()).select_from(AuditEvent)))


def _declare(client, certificate_id, di):
    return client.post("/registration/udi-dis", follow_redirects=False,
                       data={"certificate_id": str(certificate_id), "di": di, "csrf_token": csrf_of(client)})


def test_registrant_declares_a_di_of_its_own_certificate(client, db, world):
    w, mine, theirs = world
    login(client, w.registrant.username)
    page = client.get("/registration/udi-dis", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert f'data-certificate="{mine.id}"' in page.text and f'data-certificate="{theirs.id}"' not in page.text
    done = _declare(client, mine.id, GTIN13)
    assert done.status_code == 303
    assert done.headers["location"] == f"/registration/udi-dis?done=06901234567892#certificate-{mine.id}"
    shown = client.get(done.headers["location"]).text
    assert 'data-di="06901234567892"' in shown and 'data-done="declare"' in shown
    events = audit.history(db, "registration_certificate", mine.id)
    assert events[-1].action == "registration.certificate.di"
    zh = client.get("/registration/udi-dis", headers={"Accept-Language": "zh-CN"}).text
    assert 'id="declare-form"' in zh and "Declare a UDI-DI" not in zh  # translated


@pytest.mark.parametrize(("which", "di", "field", "status"), [
    ("mine", "123", "di", 422),
    ("mine", "06901234567890", "di", 422),  # wrong check digit
    ("mine", "x" * 100_001, "di", 422),
    ("none", DI, "certificate_id", 422),
    ("missing", DI, "certificate_id", 404),
    ("theirs", DI, "", 403),  # another registrant's certificate
])
def test_bad_input_and_other_certificates_are_refused_and_nothing_is_written(client, db, world, which, di,
                                                                              field, status):
    w, mine, theirs = world
    login(client, w.registrant.username)
    before = _count(db)
    cid = {"mine": mine.id, "theirs": theirs.id, "none": "", "missing": 987654}[which]
    r = _declare(client, cid, di)
    assert r.status_code == status, r.text[:300]
    assert f'data-field="{field}"' in r.text and 'id="declare-form"' in r.text
    assert _count(db) == before


def test_a_di_already_declared_elsewhere_is_a_conflict_on_the_form(client, db, world):
    w, mine, theirs = world
    login(client, w.other.username)
    assert _declare(client, theirs.id, DI).status_code == 303
    client.cookies.clear()
    login(client, w.registrant.username)
    r = _declare(client, mine.id, DI)
    assert r.status_code == 409 and theirs.number in r.text
    assert f'data-di="{DI}"' not in r.text  # the other registrant's declaration is not listed


def test_other_roles_are_refused(client, db, world):
    w, mine, _theirs = world
    login(client, w.cmde.username)
    assert client.get("/registration/udi-dis").status_code == 403
    assert _declare(client, mine.id, DI).status_code == 403


@pytest.fixture
def cli_db(db, monkeypatch):
    @contextmanager
    def scope():
        yield db
        db.flush()

    monkeypatch.setattr(cli_support, "session_scope", scope)
    return db


def test_cli_declares_and_lists_the_registrants_own_dis(cli_db, world):
    w, mine, theirs = world
    runner, me = CliRunner(), ["--user", w.registrant.username]
    res = runner.invoke(cli, ["registration", "declare-di", str(mine.id), GTIN13, *me])
    assert res.exit_code == 0, res.output
    assert "06901234567892 declared" in res.output
    res = runner.invoke(cli, ["registration", "declare-di", str(theirs.id), DI, *me])
    assert res.exit_code == 3  # permission
    res = runner.invoke(cli, ["registration", "declare-di", str(mine.id), "06901234567890",
                              "--user", w.registrant.username])
    assert res.exit_code == 2 and "di" in res.output
    res = runner.invoke(cli, ["registration", "dis", "--user", w.registrant.username])
    assert res.exit_code == 0 and f"{mine.number} [valid]" in res.output and "06901234567892" in res.output
    assert theirs.number not in res.output
    res = runner.invoke(cli, ["registration", "dis", "--user", w.cmde.username])
    assert res.exit_code == 3
