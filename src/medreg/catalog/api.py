"""JSON API of the catalog domain (thin routes): catalogue search, tree, versions, an entry's history;
the classification engine's opinion; the generic-name check."""

from fastapi import Depends, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from medreg.catalog import queries, service, service_requests
from medreg.catalog.schemas import DeviceDescription, NameCheck
from medreg.core.actor import Actor
from medreg.core.clock import today_shanghai
from medreg.core.db import MAX_ID
from medreg.core.deps import api_router, current_actor, get_session, require_login

router = api_router(prefix="/api/v1", tags=["catalog"])


@router.get("/catalog/search")
def search(q: str = Query(..., min_length=1, max_length=200, description="Chinese, pinyin, English or code"),
           limit: int = Query(10, ge=1, le=100), session: Session = Depends(get_session)) -> dict:
    return queries.search_entries(session, q, limit)


@router.get("/catalog/tree")
def tree(session: Session = Depends(get_session)) -> dict:
    return queries.tree(session)


@router.get("/catalog/versions")
def versions(session: Session = Depends(get_session)) -> list[dict]:
    return queries.versions(session)


@router.get("/catalog/entries/{code}/history")
def history(code: str = Path(..., pattern=r"^\d{2}-\d{2}-\d{2}$"),
            session: Session = Depends(get_session)) -> dict:
    return queries.entry_history(session, code)


@router.post("/classification/determine")
def determine(body: DeviceDescription, session: Session = Depends(get_session)) -> dict:
    """The management class, the trace of every rule that fired, the catalogue matches (nothing stored)."""
    return queries.determine(session, body.model_dump())


@router.post("/classification/standards")
def product_standards(body: DeviceDescription, session: Session = Depends(get_session)) -> dict:
    """Which GB/YY standards apply to this product, from its classification (nothing stored)."""
    return queries.product_standards(session, body.model_dump())


@router.post("/naming/check")
def check_name(body: NameCheck) -> dict:
    """Verdict, core and feature words, each violation with its rule text, suggestions."""
    return queries.check_name(body.name)


CODE = Path(..., pattern=r"^\d{2}-\d{2}-\d{2}$")


@router.get("/catalog/entries/{code}/fda")
def fda_links(code: str = CODE, session: Session = Depends(get_session)) -> dict:
    """FDA product-code candidates (text match) and reviewers' decisions, next to the NMPA class."""
    return queries.fda_links(session, code)


class LinkDecision(BaseModel):
    decision: str = Field(..., pattern="^(confirmed|rejected)$")
    note: str = Field("", max_length=2000)
    expected_version: int | None = None


@router.post("/catalog/entries/{code}/fda/{product_code}")
def decide_fda_link(body: LinkDecision, code: str = CODE,
                    product_code: str = Path(..., pattern=r"^[A-Z0-9]{3,8}$"),
                    session: Session = Depends(get_session), actor: Actor = Depends(require_login)) -> dict:
    link = service.decide_link(session, actor, code, product_code, body.decision, body.note,
                               body.expected_version)
    return {"code": code, "product_code": product_code, "status": link.status, "version": link.version}


@router.get("/catalog/entries/{code}/standards")
def entry_standards(code: str = CODE, active: bool | None = None, software: bool | None = None,
                    session: Session = Depends(get_session)) -> dict:
    """Which GB/YY standards apply to products of this category (text match + horizontal ones)."""
    return queries.entry_standards(session, code, active, software)


@router.get("/standards/search")
def search_standards(q: str = Query(..., min_length=1, max_length=200), limit: int = Query(20, ge=1, le=100)
                     ) -> dict:
    return queries.search_standards(q, limit)


# --- 分类界定 requests (cases) ------------------------------------------------------------------------
REQUEST_ID = Path(..., ge=1, le=MAX_ID)


class Decision(BaseModel):
    decided_class: str = Field(..., pattern="^(I|II|III|not_medical_device)$")
    reason: str = Field(..., min_length=1, max_length=5000)
    password: str = Field(..., min_length=1, max_length=200)
    expected_version: int = Field(..., ge=1, le=MAX_ID)


class Versioned(BaseModel):
    expected_version: int = Field(..., ge=1, le=MAX_ID)


@router.post("/classification/requests", status_code=201)
def request_determination(body: DeviceDescription, session: Session = Depends(get_session),
                          actor: Actor = Depends(require_login)) -> dict:
    """A registrant asks for a 分类界定; the engine's opinion is stored with the request."""
    req = service_requests.submit(session, actor, body.model_dump(), today_shanghai())
    return service_requests.view(session, req, today_shanghai())


@router.get("/classification/requests")
def list_requests(session: Session = Depends(get_session),
                  actor: Actor = Depends(current_actor)) -> list[dict]:
    """Own requests (registrant), all (reviewer), published ones (everyone)."""
    today = today_shanghai()
    return [service_requests.view(session, r, today) for r in service_requests.list_for(session, actor)]


@router.get("/classification/requests/{request_id}")
def get_request(request_id: int = REQUEST_ID, session: Session = Depends(get_session),
                actor: Actor = Depends(current_actor)) -> dict:
    return service_requests.view(session, service_requests.get_for(session, actor, request_id),
                                 today_shanghai())


@router.post("/classification/requests/{request_id}/decide")
def decide_request(body: Decision, request_id: int = REQUEST_ID, session: Session = Depends(get_session),
                   actor: Actor = Depends(require_login)) -> dict:
    """A reviewer decides the class, signing with the password."""
    req = service_requests.decide(session, actor, request_id, decided_class=body.decided_class,
                                  reason=body.reason, password=body.password,
                                  expected_version=body.expected_version, today=today_shanghai())
    return service_requests.view(session, req, today_shanghai())


@router.post("/classification/requests/{request_id}/publish")
def publish_request(body: Versioned, request_id: int = REQUEST_ID, session: Session = Depends(get_session),
                    actor: Actor = Depends(require_login)) -> dict:
    req = service_requests.act(session, actor, request_id, "publish", body.expected_version, today_shanghai())
    return service_requests.view(session, req, today_shanghai())


@router.post("/classification/requests/{request_id}/withdraw")
def withdraw_request(body: Versioned, request_id: int = REQUEST_ID, session: Session = Depends(get_session),
                     actor: Actor = Depends(require_login)) -> dict:
    req = service_requests.act(session, actor, request_id, "withdraw", body.expected_version,
                               today_shanghai())
    return service_requests.view(session, req, today_shanghai())
