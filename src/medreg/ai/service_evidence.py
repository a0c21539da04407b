"""Evidence packs for change registration: a registrant compares two of its runs on the same sealed
version (two algorithm versions, or one version on two platforms), describes the change, and gets the
triage decision with the comparison report, hashed and HMAC-signed, to cite in its change registration
(``registration_reference``: the acceptance or certificate number of that case)."""

from __future__ import annotations

import hmac

from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.ai import service_runs
from medreg.ai.models import EvidencePack
from medreg.ai.service import is_curator
from medreg.core import audit
from medreg.core.accounts import Role
from medreg.core.actor import Actor
from medreg.core.errors import NotFound, PermissionDenied, ValidationFailed

PACK = "ai_evidence_pack"
KINDS = ("version_change", "platform_equivalence")


def _record(pack: EvidencePack) -> dict:
    return {"kind": pack.kind, "runs": [pack.run_a_id, pack.run_b_id], "changes": pack.changes,
            "evidence": pack.evidence, "decision": pack.decision, "report": pack.report,
            "registration_reference": pack.registration_reference, "organisation_id": pack.organisation_id}


def create_pack(session: Session, actor: Actor, *, kind: str, run_a: int, run_b: int, changes: list[str],
                registration_reference: str | None = None, margin: float = 0.05, score_margin: float = 0.05,
                metric_margin: float = 0.02, fp_rate: float = 1.0) -> EvidencePack:
    """Compare the two runs, decide the registration route of ``changes`` with that evidence, keep it all."""
    if not actor.has(Role.REGISTRANT) or actor.organisation_id is None:
        raise PermissionDenied("Only a registrant may assemble an evidence pack.", field="actor")
    if kind not in KINDS:
        raise ValidationFailed("'{name}' must be one of: {allowed}.", field="kind",
                               params={"name": "kind", "allowed": ", ".join(KINDS)})
    ref = (registration_reference or "").strip() or None
    if ref is not None and len(ref) > 64:
        raise ValidationFailed("'{name}' must be {minimum} to {maximum} characters.",
                               field="registration_reference",
                               params={"name": "registration_reference", "minimum": 1, "maximum": 64})
    for run_id in (run_a, run_b):
        if service_runs.get_run(session, actor, run_id).organisation_id != actor.organisation_id:
            raise NotFound("Evaluation run {id} not found.", field="run_a", params={"id": run_id})
    if kind == "version_change":
        report = service_runs.compare_runs(session, actor, run_a, run_b, margin, fp_rate)
        evidence = report["evidence"]
    else:
        report = service_runs.equivalence_runs(session, actor, run_a, run_b, score_margin, metric_margin,
                                                 fp_rate)
        evidence = {"platform_equivalent": report["verdict"] == "equivalent"}
    decision = service_runs.triage_change(list(changes), evidence)
    pack = EvidencePack(organisation_id=actor.organisation_id, created_by_user_id=actor.user_id, kind=kind,
                        run_a_id=run_a, run_b_id=run_b, changes=sorted(set(changes)), evidence=evidence,
                        decision=decision, report=audit.jsonable(report), registration_reference=ref)
    pack.pack_sha256 = audit.sha256_of(_record(pack))
    pack.signature = service_runs.sign(pack.pack_sha256)
    session.add(pack)
    session.flush()
    audit.record(session, actor, "ai.evidence.create", PACK, pack.id,
                 after={"kind": kind, "runs": [run_a, run_b], "outcome": decision["outcome"],
                        "registration_reference": ref, "pack_sha256": pack.pack_sha256})
    return pack


def get_pack(session: Session, actor: Actor, pack_id: int) -> EvidencePack:
    """A pack its organisation or a curator (reviewers of the change registration) may see."""
    pack = session.get(EvidencePack, pack_id)
    if pack is None or not (is_curator(actor) or pack.organisation_id == actor.organisation_id):
        raise NotFound("Evidence pack {id} not found.", field="pack_id", params={"id": pack_id})
    return pack


def list_packs(session: Session, actor: Actor,
               registration_reference: str | None = None) -> list[EvidencePack]:
    q = select(EvidencePack).order_by(EvidencePack.id.desc())
    if not is_curator(actor):
        if actor.organisation_id is None:
            return []
        q = q.where(EvidencePack.organisation_id == actor.organisation_id)
    if registration_reference:
        q = q.where(EvidencePack.registration_reference == registration_reference.strip())
    return list(session.scalars(q.limit(500)))


def verify_pack(session: Session, actor: Actor, pack_id: int) -> dict:
    pack = get_pack(session, actor, pack_id)
    checks = {"pack_sha256": audit.sha256_of(_record(pack)) == pack.pack_sha256,
              "signature": hmac.compare_digest(service_runs.sign(pack.pack_sha256), pack.signature)}
    return {"pack_id": pack.id, "checks": checks, "intact": all(checks.values())}
