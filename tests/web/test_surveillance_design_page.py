"""The monitor page and the API state a monitor's design (continuous or group-sequential)."""

from __future__ import annotations

from medreg.core.accounts import OrgKind, Role
from tests.factories import actor_for, make_org, make_user
from tests.surveillance.test_group_monitor import _monitor
from tests.web.conftest import login


def test_monitor_page_and_api_state_the_design(client, db):
    user = make_user(db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE))
    m = _monitor(db, actor_for(user), planned_looks=5)
    db.commit()
    login(client, user.username)
    assert "成组序贯设计，共 5 次分析" in client.get(f"/surveillance/monitors/{m.id}").text
    en = client.get(f"/surveillance/monitors/{m.id}", headers={"Accept-Language": "en"})
    assert "group-sequential design, 5 looks" in en.text
    api = client.get("/api/surveillance/monitors").json()
    assert [x["planned_looks"] for x in api if x["id"] == m.id] == [5]
