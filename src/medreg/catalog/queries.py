"""Read side of the catalogue: the current entries (the database's current version, or the shipped rows
when no version was loaded), search, tree, versions and an entry's history across versions."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.catalog import catalogue, classify, crosswalk, engine, naming, search, standards
from medreg.catalog.index import current_index
from medreg.catalog.models import (
    CatalogCrosswalkLink,
    CatalogEntry,
    CatalogVersion,
    to_entry,
)
from medreg.catalog.schemas import is_blank
from medreg.core.errors import NotFound, ValidationFailed


def search_entries(session: Session | None, q: str, limit: int = 10) -> dict:
    label, index = current_index(session)
    hits = search.search(index, q, limit=limit)
    return {"version": label, "query": q, "count": len(hits), "results": [h.to_dict() for h in hits]}


def tree(session: Session | None) -> dict:
    label, index = current_index(session)
    return {"version": label, "subcatalogues": search.tree(index.entries, catalogue.subcatalogue_names())}


def versions(session: Session) -> list[dict]:
    rows = session.scalars(select(CatalogVersion).order_by(CatalogVersion.id))
    return [{"id": v.id, "label": v.label, "source_name": v.source_name, "sha256": v.sha256, "rows": v.rows,
             "subcatalogues": v.subcatalogues.split(",") if v.subcatalogues else [],
             "based_on_id": v.based_on_id, "is_current": v.is_current,
             "imported_at": v.imported_at.isoformat(), "imported_by": v.imported_by} for v in rows]


def entry_history(session: Session, category2_code: str) -> dict:
    """Every row of one 二级 category in every version, oldest first."""
    rows = session.execute(select(CatalogEntry, CatalogVersion.label).join(
        CatalogVersion, CatalogVersion.id == CatalogEntry.version_id)
        .where(CatalogEntry.category2_code == category2_code)
        .order_by(CatalogEntry.version_id, CatalogEntry.row_no)).all()
    if not rows:
        raise NotFound("No catalogue entry {code}.", field="code", params={"code": category2_code})
    return {"code": category2_code,
            "history": [{"version": label, **to_entry(r).to_dict()} for r, label in rows]}


def determine(session: Session | None, facts: dict) -> dict:
    """The engine's opinion on a described device (read-only: nothing is stored)."""
    if is_blank(facts):
        raise ValidationFailed("Describe the device: a name, its intended use, a catalogue code or at least "
                               "one fact.", field="name")
    label, index = current_index(session)
    return {"catalogue_version": label,
            **classify.classify(index, facts, version=label, links=crosswalk_decisions(session)).to_dict()}


def crosswalk_decisions(session: Session | None) -> dict[tuple[str, str], str]:
    """Reviewers' crosswalk decisions {(category2_code, product_code): confirmed | rejected}."""
    if session is None:
        return {}
    links = session.scalars(select(CatalogCrosswalkLink))
    return {(x.category2_code, x.product_code): x.status for x in links}


def check_name(name: str) -> dict:
    """The generic-name check (pure; no database)."""
    return naming.check(name).to_dict()


def fda_links(session: Session | None, code: str) -> dict:
    """FDA product-code candidates of one NMPA category next to its class, with reviewers' decisions."""
    label, index = current_index(session)
    rows = [e for e in index.entries if e.category2_code == code]
    if not rows:
        raise NotFound("No catalogue entry {code}.", field="code", params={"code": code})
    merged = {**rows[0].__dict__, "examples": tuple(x for e in rows for x in e.examples)}
    found = {c["product_code"]: {**c, "status": "candidate"} for c in crosswalk.candidates(
        catalogue.CatalogueEntry(**merged), limit=20)}
    decided = session.scalars(select(CatalogCrosswalkLink).where(
        CatalogCrosswalkLink.category2_code == code)) if session is not None else []
    fda = {c.product_code: c for c in crosswalk.fda_codes()}
    for link in decided:
        c = fda[link.product_code]
        base = found.get(link.product_code) or {
            "product_code": c.product_code, "device_name": c.device_name, "fda_class": c.device_class,
            "regulation_number": c.regulation_number, "medical_specialty": c.medical_specialty, "score": None,
            "matched_terms": []}
        found[link.product_code] = {**base, "status": link.status, "provenance": "reviewer",
                                    "decided_by": link.decided_by, "note": link.note, "version": link.version}
    links = sorted(found.values(), key=lambda f: (f["status"] != "confirmed", f["status"] == "rejected",
                                                  -(f["score"] or 0), f["product_code"]))
    return {"catalogue_version": label, "code": code, "name": rows[0].category2_name,
            "nmpa_classes": sorted({e.management_class for e in rows}, key=catalogue.CLASS_RANK.__getitem__),
            "links": links}


def entry_standards(session: Session | None, code: str, active: bool | None = None,
                    software: bool | None = None) -> dict:
    """Which standards apply to the products of one catalogue category (see catalog.standards)."""
    label, index = current_index(session)
    rows = [e for e in index.entries if e.category2_code == code]
    if not rows:
        raise NotFound("No catalogue entry {code}.", field="code", params={"code": code})
    merged = catalogue.CatalogueEntry(**{**rows[0].__dict__,
                                         "examples": tuple(x for e in rows for x in e.examples)})
    found = standards.for_entry(merged, active, software)
    return {"catalogue_version": label, "code": code, "name": rows[0].category2_name, "count": len(found),
            "standards": found}


# curated standard categories (data/standards/standards.csv) that follow from a rule set in scope
STANDARD_FAMILIES = {"robot": "no63-medical-robot", "ai": "ai-no47"}


def product_standards(session: Session | None, facts: dict) -> dict:
    """Which standards apply to a described product, from its classification: the catalogue category that
    decided (or the best usable match), active / software from its facts, else its name and core word."""
    body = determine(session, facts)
    by = body["decided_by"] or {}
    code = by["rule"].split(":")[1].split("#")[0] if by.get("source") == "catalogue" else None
    usable = [m for m in body["catalogue_matches"] if m["score"] >= engine.USABLE_MATCH]
    code = code or (usable[0]["code"] if usable else None)
    label, index = current_index(session)
    rows = [e for e in index.entries if e.category2_code == code]
    merged = {**rows[0].__dict__, "examples": tuple(x for e in rows for x in e.examples)} if rows else None
    entry = catalogue.CatalogueEntry(**merged) if merged else None
    sw = facts.get("software") or {}
    software = True if (facts.get("use_form") == "standalone_software" or sw.get("ai")) else None
    # GB/YY 9706 is for medical electrical equipment: active, but not standalone software (令第15号 counts
    # software as an active device)
    active = {"active": True, "passive": False}.get(facts.get("structure") or "")
    if facts.get("use_form") == "standalone_software":
        active = False
    core = naming.check(facts["name"]).core_word if facts.get("name") else None
    core_word = core["term"] if core and core.get("known") else None
    in_scope = {r["id"] for r in body["rule_sets"] if r["in_scope"]}
    families = {fam: f"rule set {rs} in scope" for fam, rs in STANDARD_FAMILIES.items() if rs in in_scope}
    found = standards.for_product(entry, facts.get("name"), core_word, active, software, families)
    named = f" and its core word {core_word}" if core_word else ""
    basis = (f"catalogue category {code} {rows[0].category2_name}" if rows else
             f"no catalogue category: the product name{named}")
    category = {"code": code, "name": rows[0].category2_name,
                "management_classes": sorted({e.management_class for e in rows},
                                             key=catalogue.CLASS_RANK.__getitem__)} if rows else None
    return {"catalogue_version": label, "management_class": body["management_class"],
            "status": body["status"], "category": category, "basis": basis, "families": families,
            "active": active, "software": software, "count": len(found), "standards": found}


def search_standards(q: str, limit: int = 20) -> dict:
    hits = standards.search(q, limit)
    return {"query": q, "count": len(hits), "results": hits}
