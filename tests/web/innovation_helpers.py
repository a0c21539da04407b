"""Shared set-up of the innovation and expert web tests: the service-test world, bearer tokens,
cookie logins, and the legal day moved forward (to close a notice after its last day)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from medreg.core import auth
from medreg.core.actor import Actor
from medreg.core.clock import today_shanghai
from medreg.premarket.innovation.rules import required_documents
from tests.premarket.innovation_world import PDF, World, build, draft_data
from tests.web.conftest import login

GRANTED = today_shanghai() - timedelta(days=400)  # inside the 5-year window of No.83 Art.2(1)


def draft(**overrides) -> dict:
    data = draft_data(patent_grant_date=GRANTED.isoformat(), **overrides)
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in data.items()}


@dataclass
class WebWorld:
    w: World
    tokens: dict[str, str] = field(default_factory=dict)

    def __getattr__(self, name):  # w.office, w.registrant ...
        return getattr(self.w, name)

    def h(self, actor: Actor) -> dict:
        """Bearer header of ``actor``."""
        if actor.username not in self.tokens:
            raise KeyError(actor.username)
        return {"Authorization": f"Bearer {self.tokens[actor.username]}"}


def web_world(db: Session) -> WebWorld:
    w = build(db)
    actors = [w.office, w.province, w.other_province, w.registrant, w.other_registrant, w.foreign]
    actors += [a for _e, a in w.experts]
    ww = WebWorld(w=w)
    for actor in actors:
        ww.tokens[actor.username] = auth.issue_token(db, actor, actor.user_id, "test")
    db.commit()
    return ww


def upload_dossier(client: TestClient, headers: dict, app_id: int, *, is_domestic: bool = True) -> None:
    for i, doc in enumerate(required_documents(is_domestic=is_domestic, patent_kind="granted")):
        r = client.post(f"/api/innovation/applications/{app_id}/documents", headers=headers,
                        data={"doc_type": doc.value, "title": f"{doc.value} file"},
                        files={"file": (f"{doc.value}.pdf", PDF + f"web{i}".encode(), "application/pdf")})
        assert r.status_code == 201, r.text


def move_today(monkeypatch, days: int) -> date:
    """The services' legal day, ``days`` calendar days after the real one."""
    later = today_shanghai() + timedelta(days=days)
    import medreg.premarket.innovation.queries as q
    import medreg.premarket.innovation.service as s
    import medreg.premarket.innovation.service_review as sr

    for module in (s, sr, q):
        monkeypatch.setattr(module, "today_shanghai", lambda now=None: later)
    return later


def log_in(client: TestClient, actor: Actor) -> str:
    """Log ``client`` in as ``actor``; returns the session's CSRF token."""
    r = login(client, actor.username)
    assert r.status_code == 303, r.text
    return csrf_from(client.get("/").text)


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page carries a csrf_token field"
    return match.group(1)
