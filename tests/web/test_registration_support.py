"""Shared helpers of the registration web tests (no tests here): the world committed, API tokens."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import PASSWORD
from tests.premarket.test_registration_world import World, build


def world(db) -> World:
    w = build(db)
    db.commit()
    return w


def bearer(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/auth/token", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def initial_body(**over) -> dict:
    body = dict(
        kind="initial",
        product_name="Maglev ventricular assist device",
        model_spec="HM-3; HM-3S",
        structure_composition="Pump, controller, driveline, batteries",
        intended_use="Long-term circulatory support in advanced heart failure",
        device_class="III",
        subcatalogue_code="12",
    )
    body.update(over)
    return body
