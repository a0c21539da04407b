"""Demo reports (made up): filed through the service, with a cluster and a duplicate to find."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from medreg.core.accounts import OrgKind
from medreg.core.errors import ValidationFailed
from medreg.vigilance import demo, review
from medreg.vigilance.models import VigilanceCase
from tests.factories import make_org
from tests.vigilance.world import make_world


def test_demo_reports(db):
    make_org(db, OrgKind.HOSPITAL, province="Beijing")
    make_org(db, OrgKind.REGISTRANT)
    w = make_world(db)
    before = db.scalar(select(func.count()).select_from(VigilanceCase))
    made = demo.load(db, 40)
    assert made == 41 and db.scalar(select(func.count()).select_from(VigilanceCase)) == before + 41
    cases = db.scalars(select(VigilanceCase)).all()
    assert all("演示" in c.device_name and "demo" in c.device_name for c in cases)
    assert {c.status for c in cases} == {"draft", "submitted"}
    assert any(c.late for c in cases) and any(c.late is False for c in cases)
    assert any(a.lot == "DEMO-LOT-1" for a in review.cluster_alerts(db, w.national))
    assert review.duplicate_candidates(db, w.national)


def test_demo_count_is_checked(db):
    with pytest.raises(ValidationFailed) as e:
        demo.load(db, 0)
    assert e.value.field == "count"
