"""Jobs are visible in the UI and as JSON: list, detail with progress, start, cancel; tenancy."""

from __future__ import annotations

from medreg.core import jobs
from medreg.core.actor import Actor
from tests.factories import make_org, make_user
from tests.web.conftest import csrf_of, login


def _admin(db):
    user = make_user(db, "admin", org=make_org(db, "regulator_unit"))
    db.commit()
    return user


def test_admin_starts_a_job_from_the_page_and_sees_it(client, db):
    admin = _admin(db)
    login(client, admin.username)
    page = client.get("/jobs/")
    assert page.status_code == 200 and "audit.verify" in page.text
    r = client.post("/jobs/", data={"kind": "audit.verify", "csrf_token": csrf_of(client)})
    assert r.status_code == 303
    job_id = int(r.headers["location"].rsplit("/", 1)[1])
    detail = client.get(f"/jobs/{job_id}")
    assert detail.status_code == 200 and 'data-testid="job-status"' in detail.text
    rows = client.get("/jobs/", headers={"HX-Request": "true"})
    assert f'data-job="{job_id}"' in rows.text and "<html" not in rows.text
    body = client.get(f"/api/jobs/{job_id}").json()
    assert body["kind"] == "audit.verify" and body["status"] == "queued"
    cancelled = client.post(f"/jobs/{job_id}/cancel", data={"csrf_token": csrf_of(client)})
    assert cancelled.status_code == 303
    assert client.get(f"/api/jobs/{job_id}").json()["status"] == "cancelled"


def test_progress_is_shown(client, db):
    admin = _admin(db)
    job = jobs.enqueue(db, Actor.from_user(admin), "audit.verify", {})
    job.done, job.total, job.message = 3, 10, "verifying"
    db.commit()
    login(client, admin.username)
    page = client.get(f"/jobs/{job.id}").text
    assert '<progress max="10" value="3">' in page and "verifying" in page
    assert client.get(f"/api/jobs/{job.id}").json()["fraction"] == 0.3


def test_bad_input_and_tenancy(client, db):
    admin = _admin(db)
    job = jobs.enqueue(db, Actor.from_user(admin), "audit.verify", {})
    other = make_user(db, "registrant", org=make_org(db))
    db.commit()
    login(client, other.username)
    assert client.get(f"/api/jobs/{job.id}").status_code == 404  # not theirs
    assert client.get("/api/jobs/").json() == []
    r = client.post("/api/jobs/", json={"kind": "audit.verify"}, headers={"X-CSRF-Token": csrf_of(client)})
    assert r.status_code == 403 and r.json()["field"] == "kind"
    r = client.post("/api/jobs/", json={"kind": "no.such.job"}, headers={"X-CSRF-Token": csrf_of(client)})
    assert r.status_code == 422 and r.json()["field"] == "kind"
    assert client.get("/api/jobs/not-a-number").status_code == 422
    anonymous = client.__class__(client.app, follow_redirects=False)
    assert anonymous.get("/jobs/").status_code in (302, 303)
    assert anonymous.get("/api/jobs/").status_code == 401
