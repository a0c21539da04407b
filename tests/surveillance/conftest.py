"""Fixtures of the surveillance tests: a monitoring centre with two enrolled sentinel hospitals, and the
web fixtures (``app``, ``client`` bound to the rolled-back test session) for the page tests kept here."""

from __future__ import annotations

from datetime import date

import pytest

from medreg.core.accounts import OrgKind, Role
from medreg.surveillance import service
from tests.factories import actor_for, make_org, make_user
from tests.web.conftest import app, client  # noqa: F401 (fixtures)


@pytest.fixture
def world(db):
    centre = actor_for(make_user(db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE)))
    sites = {}
    for code in ("H1", "H2"):
        org = make_org(db, OrgKind.HOSPITAL)
        service.enrol_hospital(
            db,
            centre,
            organisation_id=org.id,
            code=code,
            device_groups=["coronary_stent"],
            enrolled_on=date(2024, 1, 1),
        )
        sites[code] = actor_for(make_user(db, Role.HOSPITAL, org=org))
    return centre, sites
