"""The protocol form's procedure-date window, minimum follow-up and "add a criterion" (up to the API's
10 rows of a kind, a plain round-trip of the form: nothing registered), and the JSON twin's checks of
dates (422 naming the field)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from medreg.core.accounts import OrgKind, Role
from medreg.evidence.models import RegisteredProtocol
from medreg.evidence.protocol import protocol_hash
from medreg.surveillance.protocol_form import build_protocol
from tests.factories import make_org, make_user
from tests.web.conftest import csrf_of, login
from tests.web.test_registration_support import bearer
from tests.web.test_surveillance_protocol_pages import FORM, _body, _count


@pytest.fixture
def centre(db):
    user = make_user(db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE))
    db.commit()
    return user


def _post(client, data):
    return client.post(
        "/surveillance/studies/protocols/new",
        data={**data, "csrf_token": csrf_of(client)},
        follow_redirects=False,
    )


def test_add_a_criterion_up_to_ten_rows_then_register_the_tenth(client, db, centre):
    login(client, centre.username)
    page = client.get("/surveillance/studies/protocols/new")
    assert (
        len(re.findall(r'data-testid="exclusion-row"', page.text)) == 3 and 'id="add-exclusion"' in page.text
    )
    data = {**FORM, "exclusion-rows": "3"}
    before = _count(db)
    for rows in range(4, 11):
        r = _post(client, {**data, "add": "exclusion"})
        assert r.status_code == 200 and _count(db) == before  # nothing registered, nothing audited
        assert len(re.findall(r'data-testid="exclusion-row"', r.text)) == rows
        assert len(re.findall(r'data-testid="inclusion-row"', r.text)) == 3
        assert f'name="exclusion-rows" value="{rows}"' in r.text
        assert 'value="renal_failure" selected' in r.text  # what was typed stays
        data["exclusion-rows"] = str(rows)
    assert 'id="add-exclusion"' not in r.text and 'id="add-inclusion"' in r.text  # the API's limit
    data.update(
        {"exclusion-10-field": "ejection_fraction", "exclusion-10-op": "<", "exclusion-10-value": "25"}
    )
    assert _post(client, {**data, "add": "exclusion"}).status_code == 200  # still 10 rows at most
    done = _post(client, data)
    assert done.status_code == 303
    row = db.scalar(select(RegisteredProtocol))
    assert row.content["exclusion"][-1] == {"field": "ejection_fraction", "op": "<", "value": 25.0}


def test_the_window_and_minimum_follow_up_from_the_page_are_typed_criteria(client, db, centre):
    login(client, centre.username)
    data = {
        **FORM,
        "procedure_date_from": "2025-01-01",
        "procedure_date_to": "2025-12-31",
        "min_follow_up_days": "90",
        "inclusion-2-field": "procedure_date",
        "inclusion-2-op": "!=",
        "inclusion-2-value": "2025-05-01",
    }
    done = _post(client, data)
    assert done.status_code == 303, done.text[:500]
    row = db.scalar(select(RegisteredProtocol))
    assert row.content["inclusion"] == [
        {"field": "procedure_date", "op": ">=", "value": "2025-01-01", "type": "date"},
        {"field": "procedure_date", "op": "<=", "value": "2025-12-31", "type": "date"},
        {"field": "days_followed_or_event", "op": ">=", "value": 90},
        {"field": "age", "op": ">=", "value": 18},
        {"field": "procedure_date", "op": "!=", "value": "2025-05-01", "type": "date"},
    ]
    shown = client.get(f"/surveillance/studies/protocols/{row.id}", headers={"Accept-Language": "en"})
    assert "Procedure date &gt;= 2025-01-01" in shown.text or "Procedure date >= 2025-01-01" in shown.text
    bad = _post(client, {**data, "title": "other", "procedure_date_to": "2024-12-31"})
    assert bad.status_code == 422 and 'data-field="procedure_date_to"' in bad.text
    assert 'value="2025-01-01"' in bad.text  # the form comes back as typed


def test_api_twin_checks_dates_and_takes_its_own_content_back(client, db, centre):
    headers = bearer(client, centre.username)
    url = "/api/surveillance/studies/protocols"
    for changes, field in (
        ({"procedure_date_from": "2025-02-30"}, "procedure_date_from"),
        ({"procedure_date_from": "2025-03-01", "procedure_date_to": "2025-02-01"}, "procedure_date_to"),
        ({"min_follow_up_days": 0}, "min_follow_up_days"),
        ({"inclusion": [{"field": "procedure_date", "op": ">=", "value": "yesterday"}]}, "inclusion-1"),
    ):
        r = client.post(url, json=_body(**changes), headers=headers)
        assert r.status_code == 422 and r.json()["field"] == field, (changes, r.text)
    body = _body(procedure_date_from="2025-01-01", min_follow_up_days=30)
    created = client.post(url, json=body, headers=headers)
    assert created.status_code == 201, created.text
    content = created.json()["content"]
    assert created.json()["sha256"] == protocol_hash(build_protocol(body))
    # the registered content posted back as it is (typed criteria included) is the same protocol
    again = client.post(
        url,
        json={
            **body,
            "procedure_date_from": None,
            "min_follow_up_days": None,
            "inclusion": content["inclusion"],
        },
        headers=headers,
    )
    assert again.status_code == 409
