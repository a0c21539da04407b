"""Export the reports a user may see: flat rows as CSV, XLSX or JSON, and FHIR R5 ``AdverseEvent`` resources
(validated with ``fhir.resources``). Read side: no writes.

FHIR mapping: ``status`` completed for closed cases else in-progress; ``actuality`` actual; ``subject`` a
display-only reference (the report holds no patient identity); ``occurrenceDateTime`` the event date;
``detected`` the awareness instant; ``recordedDate`` the first submission; ``seriousness`` serious for
death and serious injury, else non-serious (HL7 adverse-event-seriousness); ``code`` the IMDRF device-
problem codes and ``outcome`` the IMDRF health-impact codes, each coding with IMDRF's term as display and
no system URI (IMDRF publishes none); ``suspectEntity`` the device (name, model, lot, UDI-DI) as text;
``note`` the event description.
"""

from __future__ import annotations

import csv
import io

from fhir.resources.adverseevent import AdverseEvent
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from medreg.core.actor import Actor
from medreg.vigilance.access import scope
from medreg.vigilance.aet import terminology
from medreg.vigilance.models import VigilanceCase
from medreg.vigilance.states import Status

COLUMNS = (
    "id",
    "status",
    "reporter_role",
    "device_name",
    "registration_number",
    "udi_di",
    "model",
    "lot_number",
    "serial_number",
    "outcome",
    "overseas",
    "cluster",
    "event_date",
    "aware_at",
    "first_submitted_at",
    "report_due_at",
    "late",
    "quality_score",
    "duplicate_of_id",
    "device_problem_codes",
    "health_impact_codes",
)
SERIOUSNESS = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"


def cases(
    session: Session,
    actor: Actor,
    *,
    status: str | None = None,
    outcome: str | None = None,
    limit: int = 100_000,
) -> list[VigilanceCase]:
    stmt = scope(select(VigilanceCase), actor).options(selectinload(VigilanceCase.versions))
    if status:
        stmt = stmt.where(VigilanceCase.status == status)
    if outcome:
        stmt = stmt.where(VigilanceCase.outcome == outcome)
    return list(session.scalars(stmt.order_by(VigilanceCase.id).limit(limit)))


def _codes(case: VigilanceCase, field: str) -> list[str]:
    return list((case.versions[-1].content.get("codes") or {}).get(field) or []) if case.versions else []


def row(case: VigilanceCase) -> dict:
    out = {c: getattr(case, c, None) for c in COLUMNS[:-2]}
    out["device_problem_codes"] = " ".join(_codes(case, "device_problem"))
    out["health_impact_codes"] = " ".join(_codes(case, "health_impact"))
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in out.items()}


def to_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def to_xlsx(rows: list[dict]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("reports")
    ws.append(list(COLUMNS))
    for r in rows:
        ws.append([r.get(c) for c in COLUMNS])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _concept(codes: list[str]) -> dict | None:
    aet = terminology()
    codings = [{"code": c, "display": aet.get(c).term} for c in codes if aet.get(c)]
    return {"coding": codings, "text": "; ".join(x["display"] for x in codings)} if codings else None


def to_fhir(case: VigilanceCase) -> dict:
    content = case.versions[-1].content if case.versions else {}
    event = content.get("event") or {}
    device = " / ".join(
        x
        for x in (
            case.device_name,
            case.model,
            case.lot_number and f"lot {case.lot_number}",
            case.udi_di and f"UDI-DI {case.udi_di}",
        )
        if x
    )
    resource = {
        "resourceType": "AdverseEvent",
        "id": f"vigilance-{case.id}",
        "identifier": [{"system": "urn:medreg:vigilance-case", "value": str(case.id)}],
        "status": "completed" if case.status == Status.CLOSED else "in-progress",
        "actuality": "actual",
        "subject": {"display": "patient (no direct identifiers in the report)"},
        "seriousness": {
            "coding": [
                {
                    "system": SERIOUSNESS,
                    "code": "serious" if case.outcome in ("death", "serious_injury") else "non-serious",
                }
            ]
        },
    }
    if case.event_date:
        resource["occurrenceDateTime"] = case.event_date.isoformat()
    if case.aware_at:
        resource["detected"] = case.aware_at.isoformat()
    if case.first_submitted_at:
        resource["recordedDate"] = case.first_submitted_at.isoformat()
    code = _concept(_codes(case, "device_problem"))
    if code:
        resource["code"] = code
    outcome = _concept(_codes(case, "health_impact"))
    if outcome:
        resource["outcome"] = [outcome]
    if device:
        resource["suspectEntity"] = [{"instanceCodeableConcept": {"text": device}}]
    if event.get("description"):
        resource["note"] = [{"text": event["description"]}]
    return AdverseEvent.model_validate(resource).model_dump(mode="json", exclude_none=True)


def to_fhir_bundle(items: list[VigilanceCase]) -> dict:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": to_fhir(c)} for c in items],
    }
