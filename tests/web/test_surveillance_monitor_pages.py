"""The monitors page: the centre defines monitors (continuous or group-sequential) with the API's checks
and the same service call, bad input is refused at its field (4xx, the form kept, nothing written),
registrants see only their devices' monitors and cannot define any, hospitals are refused."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from medreg.core import audit
from medreg.core.accounts import OrgKind, Role
from medreg.core.audit import AuditEvent
from medreg.surveillance.demo import DEVICES
from medreg.surveillance.maxsprt import poisson_critical_value
from medreg.surveillance.models import Monitor
from tests.factories import make_org, make_user
from tests.web.conftest import csrf_of, login

# R package Sequential 4.5.1, TableCV.PoissonM: T = 10, M = 4, alpha = 0.05
# (also in tests/surveillance/test_maxsprt_poisson.py)
CV_T10_M4 = 2.92156132978567
FORM = {"name": "Stent D TLF", "device_group": "coronary_stent", "udi_di": DEVICES[3][1],
        "outcome": "target_lesion_failure", "window_days": "180", "reference_start": "2024-01-01",
        "reference_end": "2024-12-31", "alpha": "0.05", "sample_size": "10", "min_events": "4",
        "looks": "continuous", "planned_looks": "", "look_at": "", "registrant_org_id": ""}


@pytest.fixture
def people(db):
    centre = make_user(db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE))
    owner_org = make_org(db, OrgKind.REGISTRANT)
    owner = make_user(db, Role.REGISTRANT, org=owner_org)
    stranger = make_user(db, Role.REGISTRANT, org=make_org(db, OrgKind.REGISTRANT))
    hospital = make_user(db, Role.HOSPITAL, org=make_org(db, OrgKind.HOSPITAL))
    db.commit()
    return {"centre": centre, "owner": owner, "owner_org": owner_org, "stranger": stranger,
            "hospital": hospital}


def _post(client, **changes):
    return client.post("/surveillance/monitors", data={**FORM, **changes, "csrf_token": csrf_of(client)},
                       follow_redirects=False)


def _count(db):
    return (db.scalar(select(func.count()).select_from(Monitor)),
            db.scalar(select(func.count()).select_from(AuditEvent)))


def test_centre_defines_continuous_and_group_sequential_monitors(client, db, people):
    login(client, people["centre"].username)
    page = client.get("/surveillance/monitors", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and 'id="monitor-form"' in page.text and 'id="no-monitors"' in page.text
    done = _post(client, registrant_org_id=str(people["owner_org"].id))
    assert done.status_code == 303, done.text[:500]
    m = db.scalar(select(Monitor))
    assert done.headers["location"] == f"/surveillance/monitors?created={m.id}#monitor-{m.id}"
    assert m.critical_value == pytest.approx(CV_T10_M4, abs=1e-8) and m.look_plan is None
    assert m.registrant_org_id == people["owner_org"].id and m.window_days == 180
    history = audit.history(db, "surveillance_monitor", m.id)
    assert [e.action for e in history] == ["surveillance.monitor.create"]
    listed = client.get(done.headers["location"], headers={"Accept-Language": "en"}).text
    assert 'data-new="true"' in listed and f'data-cv="{CV_T10_M4:.6f}"' in listed
    assert 'data-done="create"' in listed
    # notes given at definition: stored, audited with the creation, shown on its page (as in its JSON)
    assert 'id="notes" name="notes"' in page.text
    note = "  Reference period agreed with the registrant.  "
    assert _post(client, name="Noted", notes=note).status_code == 303
    noted = db.scalar(select(Monitor).where(Monitor.name == "Noted"))
    assert noted.notes == "Reference period agreed with the registrant."
    created = audit.history(db, "surveillance_monitor", noted.id)[0]
    assert created.after["notes"] == noted.notes
    assert 'id="monitor-notes"' in client.get(f"/surveillance/monitors/{noted.id}").text
    assert _post(client, name="Too long", notes="x" * 4001).status_code == 422
    assert db.scalar(select(Monitor).where(Monitor.name == "Too long")) is None
    # group-sequential: equal looks, and looks at fractions of T (the API's designs)
    assert _post(client, name="G3", looks="planned", planned_looks="3").status_code == 303
    assert _post(client, name="Timed", looks="look_at", look_at="0.25, 0.5, 1").status_code == 303
    g3, timed = db.scalars(select(Monitor).where(Monitor.name.in_(["G3", "Timed"])).order_by(Monitor.id))
    assert g3.planned_looks == 3 and g3.look_plan == pytest.approx([10 / 3, 20 / 3, 10])
    group_cv = poisson_critical_value(10, 0.05, min_events=4, looks=[10 / 3] * 3).critical_value
    assert g3.critical_value == pytest.approx(group_cv, abs=1e-9)
    assert timed.look_plan == [2.5, 5.0, 10.0]
    zh = client.get("/surveillance/monitors", headers={"Accept-Language": "zh-CN"}).text
    assert "靶病变失败" in zh


def test_centre_sets_the_cusum_design_of_a_monitor(client, db, people):
    login(client, people["centre"].username)
    page = client.get("/surveillance/monitors", headers={"Accept-Language": "zh-CN"}).text
    assert 'name="cusum_odds_ratio"' in page and "待检出的比值比" in page
    done = _post(client, cusum_odds_ratio="1.5", cusum_null_odds_ratio="0.8", cusum_false_alarm="0.01")
    assert done.status_code == 303, done.text[:500]
    m = db.scalar(select(Monitor))
    assert (m.cusum_odds_ratio, m.cusum_null_odds_ratio, m.cusum_false_alarm) == (1.5, 0.8, 0.01)
    assert _post(client, name="Defaults").status_code == 303
    d = db.scalar(select(Monitor).where(Monitor.name == "Defaults"))
    assert (d.cusum_odds_ratio, d.cusum_null_odds_ratio, d.cusum_false_alarm) == (2.0, 1.0, 0.05)


@pytest.mark.parametrize(("changes", "field"), [
    ({"name": ""}, "name"),
    ({"udi_di": "123"}, "udi_di"),
    ({"device_group": "kidney"}, "device_group"),
    ({"outcome": "headache"}, "outcome"),
    ({"window_days": "a while"}, "window_days"),
    ({"window_days": "0"}, "window_days"),
    ({"reference_start": "01/01/2024"}, "reference_start"),
    ({"reference_end": "2023-01-01"}, "reference_end"),
    ({"alpha": "0.9"}, "alpha"),
    ({"alpha": "five percent"}, "alpha"),
    ({"sample_size": "0"}, "sample_size"),
    ({"min_events": "1.5"}, "min_events"),
    ({"looks": "planned", "planned_looks": "0"}, "planned_looks"),
    ({"looks": "look_at", "look_at": "0.25,0.5"}, "look_at"),
    ({"looks": "look_at", "look_at": "half,1"}, "look_at"),
    ({"registrant_org_id": "987654"}, "registrant_org_id"),
    ({"registrant_org_id": "x"}, "registrant_org_id"),
    ({"name": "x" * 100_001}, "name"),
    ({"cusum_odds_ratio": "0"}, "cusum_odds_ratio"),
    ({"cusum_null_odds_ratio": "1000"}, "cusum_null_odds_ratio"),
    ({"cusum_false_alarm": "0.7"}, "cusum_false_alarm"),
    ({"cusum_odds_ratio": "1.5", "cusum_null_odds_ratio": "1.5"}, "cusum_odds_ratio"),
])
def test_bad_input_is_refused_at_its_field(client, db, people, changes, field):
    login(client, people["centre"].username)
    before = _count(db)
    r = _post(client, **changes)
    assert r.status_code == 422, r.text[:300]
    assert f'data-field="{field}"' in r.text and 'id="monitor-form"' in r.text
    assert _count(db) == before
    assert 'value="Stent D TLF"' in r.text or field == "name"  # the form comes back as typed


def test_registrants_see_their_own_monitors_and_define_none(client, db, people):
    login(client, people["centre"].username)
    assert _post(client, registrant_org_id=str(people["owner_org"].id)).status_code == 303
    assert _post(client, name="Someone else's").status_code == 303
    client.get("/logout")
    client.cookies.clear()
    login(client, people["owner"].username)
    page = client.get("/surveillance/monitors").text
    assert page.count('data-testid="monitor"') == 1 and "Someone else" not in page
    assert 'id="monitor-form"' not in page
    before = _count(db)
    assert _post(client).status_code == 403
    assert _count(db) == before
    client.cookies.clear()
    login(client, people["stranger"].username)
    assert 'data-testid="monitor"' not in client.get("/surveillance/monitors").text
    client.cookies.clear()
    login(client, people["hospital"].username)
    assert client.get("/surveillance/monitors").status_code == 403
    assert _post(client).status_code == 403
