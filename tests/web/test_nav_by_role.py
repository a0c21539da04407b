"""The header menu and the home page link each role to the pages it may open, no more.

The administrator sees every registration case once submitted, the obligations, the consultations and
the expert pool (docs/security-model.md, tenancy table: ADM column); innovation applications it does
not see, so no innovation dashboard is linked. The inspector holds no power beyond the public's in the
security model (INS column: certificates, obligations of a certificate and notices are public), so its
menu is the public one: a link to a page it could not open would only end in a 403."""

from __future__ import annotations

import re

import pytest

from medreg.core.accounts import OrgKind, Role
from tests.factories import make_org, make_user
from tests.web.conftest import csrf_of, login

ADMIN_LINKS = {"/registration/", "/registration/queue", "/registration/obligations",
               "/registration/consultations", "/registration/export-certificates", "/experts/"}


def _links(html: str) -> set[str]:
    nav = html[html.index('id="main-nav"'):html.index("</nav>")]
    return set(re.findall(r'href="([^"]+)"', nav))


@pytest.fixture
def users(db):
    admin = make_user(db, Role.ADMIN, org=make_org(db, OrgKind.REGULATOR_UNIT, name="NMPA IT"))
    inspector = make_user(db, Role.INSPECTOR, org=make_org(db, OrgKind.PROVINCIAL_BUREAU, name="BJ MPA"))
    db.commit()
    return admin, inspector


def test_admin_menu_links_the_registration_pages_it_may_open(client, users):
    admin, _ = users
    login(client, admin.username)
    links = _links(client.get("/?lang=en").text)
    assert links >= ADMIN_LINKS
    assert "/innovation/" not in links and "/innovation/queue" not in links  # it sees no applications
    for path in sorted(links):
        assert client.get(path).status_code == 200, path


def test_inspector_menu_is_the_public_one(client, users):
    _, inspector = users
    public = _links(client.get("/?lang=en").text)
    login(client, inspector.username)
    links = _links(client.get("/?lang=en").text)
    assert "/verify/export" in public
    assert links == public
    for path in sorted(links):
        assert client.get(path).status_code == 200, path
    client.post("/logout", data={"csrf_token": csrf_of(client)})
