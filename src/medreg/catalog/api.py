"""JSON API of the catalog domain (thin routes): catalogue search, tree, versions, an entry's history;
the classification engine's opinion; the generic-name check."""

from fastapi import Depends, Path, Query
from sqlalchemy.orm import Session

from medreg.catalog import queries
from medreg.catalog.schemas import DeviceDescription, NameCheck
from medreg.core.deps import api_router, get_session

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


@router.post("/naming/check")
def check_name(body: NameCheck) -> dict:
    """Verdict, core and feature words, each violation with its rule text, suggestions."""
    return queries.check_name(body.name)
