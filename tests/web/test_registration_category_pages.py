"""The catalogue product category on the registration API and form: a bad code is a 422 naming the
field; the case page shows the category. Real codes of the shipped catalogue (see
tests/premarket/test_registration_category.py)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.premarket.test_registration_category import ROBOT
from tests.premarket.test_registration_world import build, initial
from tests.web.conftest import csrf_of, login
from tests.web.test_registration_support import bearer, initial_body


@pytest.mark.parametrize(("over", "field"), [({"category1_code": "01-7"}, "category1_code"),
                                             ({"category1_code": "04-01"}, "category1_code"),
                                             ({"category1_code": "01-07", "category2_code": "01-07-09"},
                                              "category2_code")])
def test_the_api_answers_a_bad_category_with_422_and_the_field(client, db, over, field):
    w = build(db)
    db.commit()
    headers = bearer(client, w.registrant.username)
    body = initial_body(subcatalogue_code="01", **over)
    response = client.post("/api/registration/applications", json=body, headers=headers)
    assert response.status_code == 422 and response.json()["field"] == field, response.text
    ok = client.post("/api/registration/applications", json=initial_body(**ROBOT), headers=headers)
    assert ok.status_code == 201 and ok.json()["category2_code"] == "01-07-03", ok.text


def test_the_form_shows_the_error_next_to_the_category(app, db):
    w = build(db)
    db.commit()
    browser = TestClient(app, follow_redirects=False)
    assert login(browser, w.registrant.username).status_code == 303
    page = browser.get("/registration/new")
    assert 'name="category1_code"' in page.text and 'name="change_category2_code"' in page.text
    data = {**initial(subcatalogue_code="01", category1_code="01-99"), "csrf_token": csrf_of(browser)}
    refused = browser.post("/registration/new", data=data)
    assert refused.status_code == 422
    assert 'data-testid="field-error" data-field="category1_code"' in refused.text
    created = browser.post("/registration/new", data={**initial(**ROBOT), "csrf_token": csrf_of(browser)})
    assert created.status_code == 303, created.text
    case = browser.get(created.headers["location"])
    assert 'data-testid="category">01-07-03<' in case.text
