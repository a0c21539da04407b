"""Use cases of the sealed evaluation databases: register a database, add an immutable version.

Only a curator (an administrator, or a reviewer of a regulator unit such as CMDE or a designated test
centre) may register databases and versions. Services never commit; every change writes an audit event.
Audit events carry counts and hashes, never a label, a salt or a case's metadata.
"""

from __future__ import annotations

import secrets
from typing import Any

import pydantic
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from medreg.ai import merkle, service_detection
from medreg.ai.models import EvalCase, EvalDatabase, EvalLabel, EvalVersion
from medreg.ai.schemas import DatabaseCreate, VersionCreate
from medreg.core import audit
from medreg.core.accounts import OrgKind, Role
from medreg.core.actor import Actor
from medreg.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

DATABASE = "ai_eval_database"
VERSION = "ai_eval_version"


def parse(schema: type[pydantic.BaseModel], data: Any) -> Any:
    """Validate ``data`` into ``schema``; the first error becomes ValidationFailed naming its field."""
    if isinstance(data, schema):
        return data
    try:
        return schema.model_validate(data)
    except pydantic.ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(x) for x in err["loc"]) or "body"
        raise ValidationFailed("'{name}' is not valid: {reason}", field=field,
                               params={"name": field, "reason": err["msg"]}) from None


def is_curator(actor: Actor) -> bool:
    """Administrators, and reviewers of a regulator unit (CMDE, NIFDC, a designated test centre)."""
    return actor.has(Role.ADMIN) or (actor.has(Role.REVIEWER)
                                     and actor.organisation_kind == OrgKind.REGULATOR_UNIT)


def need_curator(actor: Actor) -> None:
    if not is_curator(actor):
        raise PermissionDenied(
            "Only the regulator or a designated test centre may curate evaluation databases.", field="actor")


def register_database(session: Session, actor: Actor, data: DatabaseCreate | dict) -> EvalDatabase:
    need_curator(actor)
    d = parse(DatabaseCreate, data)
    if session.scalar(select(EvalDatabase.id).where(EvalDatabase.code == d.code)) is not None:
        raise Conflict("An evaluation database with code '{code}' exists.", field="code",
                       params={"code": d.code})
    if actor.organisation_id is None:
        raise ValidationFailed("The curator must belong to an organisation.", field="actor")
    db = EvalDatabase(code=d.code, name=d.name, task=d.task, modality=d.modality, description=d.description,
                      owner_org_id=actor.organisation_id)
    session.add(db)
    session.flush()
    audit.record(session, actor, "ai.database.register", DATABASE, db.id,
                 after={"code": db.code, "name": db.name, "task": db.task, "modality": db.modality})
    return db


def get_database(session: Session, database_id: int) -> EvalDatabase:
    db = session.get(EvalDatabase, database_id)
    if db is None:
        raise NotFound("Evaluation database {id} not found.", field="database_id", params={"id": database_id})
    return db


def _check_cases(task: str, d: VersionCreate) -> None:
    seen: set[str] = set()
    fields = set(d.metadata_fields)
    if len(fields) != len(d.metadata_fields):
        raise ValidationFailed("Metadata fields must be distinct.", field="metadata_fields")
    if task == "binary" and d.categories is not None:
        raise ValidationFailed("A binary task has no categories.", field="categories")
    if task == "multiclass" and not d.categories:
        raise ValidationFailed("A multiclass task needs its categories.", field="categories")
    if task != "detection" and d.matching is not None:
        raise ValidationFailed("Only a detection task has a matching rule.", field="matching")
    allowed = set(d.categories or ["0", "1"])
    for i, c in enumerate(d.cases):
        if c.case_id in seen:
            raise ValidationFailed("Case '{case_id}' appears twice.", field=f"cases.{i}.case_id",
                                   params={"case_id": c.case_id})
        seen.add(c.case_id)
        if task == "detection":
            pass
        elif c.lesions is not None:
            raise ValidationFailed("Only a detection task has lesions.", field=f"cases.{i}.lesions")
        elif c.label not in allowed:
            raise ValidationFailed("The label of case '{case_id}' must be one of: {allowed}.",
                                   field=f"cases.{i}.label",
                                   params={"case_id": c.case_id, "allowed": ", ".join(sorted(allowed))})
        if set(c.metadata) != fields:
            raise ValidationFailed("Case '{case_id}' must give exactly the metadata fields {fields}.",
                                   field=f"cases.{i}.metadata",
                                   params={"case_id": c.case_id, "fields": ", ".join(d.metadata_fields)})
    if task == "detection":
        service_detection.check_cases(d)
    if task == "binary":
        n_pos = sum(c.label == "1" for c in d.cases)
        if min(n_pos, len(d.cases) - n_pos) < 2:
            raise ValidationFailed(
                "A binary evaluation set needs at least two positive and two negative cases.", field="cases")


def add_version(session: Session, actor: Actor, database_id: int, data: VersionCreate | dict) -> EvalVersion:
    """A new immutable version: cases with sealed labels, metadata and salts, and the Merkle root."""
    need_curator(actor)
    db = get_database(session, database_id)
    d = parse(VersionCreate, data)
    _check_cases(db.task, d)
    last = session.scalar(select(func.max(EvalVersion.number)).where(EvalVersion.database_id == db.id))
    cases = sorted(d.cases, key=lambda c: c.case_id)
    salts = [secrets.token_hex(16) for _ in cases]
    detect = db.task == "detection"
    labels = [str(len(c.lesions)) if detect else c.label for c in cases]
    leaf_labels = [service_detection.leaf_label(c.lesions) if detect else c.label for c in cases]
    root = merkle.merkle_root([merkle.leaf_data(c.case_id, lab, c.metadata, s)
                               for c, lab, s in zip(cases, leaf_labels, salts, strict=True)])
    version = EvalVersion(database_id=db.id, number=(last or 0) + 1, provenance=d.provenance,
                          n_cases=len(cases), categories=d.categories,
                          matching=d.matching.model_dump() if detect else None,
                          metadata_fields=list(d.metadata_fields),
                          merkle_root=root, created_by_user_id=actor.user_id)
    session.add(version)
    session.flush()
    rows = [EvalCase(version_id=version.id, case_id=c.case_id, case_metadata=dict(c.metadata), salt=s)
            for c, s in zip(cases, salts, strict=True)]
    session.add_all(rows)
    session.flush()
    session.add_all([EvalLabel(case_pk=row.id, label=lab) for row, lab in zip(rows, labels, strict=True)])
    if detect:
        service_detection.store_lesions(session, rows, cases)
    session.flush()
    audit.record(session, actor, "ai.version.seal", VERSION, version.id,
                 after={"database": db.code, "number": version.number, "n_cases": version.n_cases,
                        "merkle_root": root})
    return version


def get_version(session: Session, version_id: int) -> EvalVersion:
    v = session.get(EvalVersion, version_id)
    if v is None:
        raise NotFound("Evaluation database version {id} not found.", field="version_id",
                       params={"id": version_id})
    return v


def case_ids(session: Session, version_id: int) -> list[str]:
    """The case ids of a version, in order (what a registrant needs to submit one output per case)."""
    get_version(session, version_id)
    return list(session.scalars(select(EvalCase.case_id).where(EvalCase.version_id == version_id)
                                .order_by(EvalCase.case_id)))


def sealed_cases(session: Session, version: EvalVersion) -> list[tuple[str, str, dict, str]]:
    """(case_id, label, metadata, salt) of every case, in case_id order. SEALED: only scoring and
    verification code of this package may call it; never return its result to a caller."""
    rows = session.execute(
        select(EvalCase.case_id, EvalLabel.label, EvalCase.case_metadata, EvalCase.salt)
        .join(EvalLabel, EvalLabel.case_pk == EvalCase.id)
        .where(EvalCase.version_id == version.id).order_by(EvalCase.case_id))
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def verify_version(session: Session, actor: Actor, version_id: int) -> dict:
    """Recompute the Merkle root from the stored cases (curators): tamper evidence for a version."""
    need_curator(actor)
    v = get_version(session, version_id)
    cases = sealed_cases(session, v)
    if v.matching is not None:  # detection: the lesions stand for the label in the leaf
        lesions = service_detection.sealed_lesions(session, v)
        cases = [(c, service_detection.leaf_label(lesions.get(c, [])), meta, salt)
                 for c, _lab, meta, salt in cases]
    root = merkle.merkle_root([merkle.leaf_data(c, lab, meta, salt) for c, lab, meta, salt in cases])
    return {"version_id": v.id, "stored_root": v.merkle_root, "recomputed_root": root,
            "n_cases": len(cases), "intact": root == v.merkle_root and len(cases) == v.n_cases}
