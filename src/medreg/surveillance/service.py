"""Use cases of the surveillance registry: enrol sentinel hospitals, import registry extracts.

Services never commit (the entry point does), check who may act, and write the audit trail. Tenancy:
a hospital acts only on its own sentinel site; the monitoring centre acts on all.
"""

from __future__ import annotations

import hashlib
from datetime import date

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from medreg.core import audit
from medreg.core.accounts import Organisation, OrgKind, Role
from medreg.core.actor import Actor
from medreg.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from medreg.surveillance.access import is_centre, require_centre
from medreg.surveillance.importer import N_, RowError
from medreg.surveillance.importer_xlsx import validate_file
from medreg.surveillance.models import DeviceGroup, ImportBatch, Outcome, Procedure, SentinelHospital
from medreg.surveillance.service_monitoring import registry_changed

__all__ = ["enrol_hospital", "hospital_of", "import_extract"]


def enrol_hospital(
    session: Session,
    actor: Actor,
    *,
    organisation_id: int,
    code: str,
    device_groups: list[str],
    enrolled_on: date,
) -> SentinelHospital:
    """Enrol a hospital as a sentinel site for some device groups (monitoring centre)."""
    require_centre(actor)
    org = session.get(Organisation, organisation_id)
    if org is None or org.kind != OrgKind.HOSPITAL:
        raise ValidationFailed("Only a hospital can be enrolled as a sentinel site.", field="organisation_id")
    code = code.strip()
    if not code or len(code) > 32:
        raise ValidationFailed("The site code must have 1 to 32 characters.", field="code")
    unknown = [g for g in device_groups if g not in {d.value for d in DeviceGroup}]
    if not device_groups or unknown:
        raise ValidationFailed(
            "Unknown device group: {groups}.",
            field="device_groups",
            params={"groups": ", ".join(unknown) or "-"},
        )
    clash = session.scalar(
        select(SentinelHospital).where(
            (SentinelHospital.code == code) | (SentinelHospital.organisation_id == organisation_id)
        )
    )
    if clash is not None:
        raise Conflict("This hospital or site code is already enrolled.", field="code")
    site = SentinelHospital(
        organisation_id=organisation_id,
        code=code,
        device_groups=sorted(device_groups),
        enrolled_on=enrolled_on,
    )
    session.add(site)
    session.flush()
    audit.record(
        session,
        actor,
        "surveillance.enrol",
        "surveillance_hospital",
        site.id,
        after={"organisation_id": organisation_id, "code": code, "device_groups": site.device_groups},
    )
    return site


def hospital_of(session: Session, actor: Actor, code: str | None = None) -> SentinelHospital:
    """The sentinel site the actor acts for: its own (hospital) or the one named (centre)."""
    if is_centre(actor):
        if not code:
            raise ValidationFailed("Name the sentinel site.", field="hospital_code")
        site = session.scalar(select(SentinelHospital).where(SentinelHospital.code == code))
    elif actor.has(Role.HOSPITAL) and actor.organisation_id is not None:
        site = session.scalar(
            select(SentinelHospital).where(SentinelHospital.organisation_id == actor.organisation_id)
        )
        if site is not None and code and site.code != code:
            site = None  # another hospital's site: as if it did not exist
    else:
        raise PermissionDenied("Only sentinel hospitals and the monitoring centre may do this.")
    if site is None:
        raise NotFound("No such sentinel site.", field="hospital_code")
    return site


def _existing_clashes(session: Session, site: SentinelHospital, rows) -> list[RowError]:
    keys = [(r.patient_pseudonym, r.procedure_date, r.udi_di) for r in rows]
    found: set = set()
    for i in range(0, len(keys), 500):
        chunk = keys[i : i + 500]
        found |= set(
            session.execute(
                select(Procedure.patient_pseudonym, Procedure.procedure_date, Procedure.udi_di).where(
                    Procedure.hospital_id == site.id,
                    tuple_(Procedure.patient_pseudonym, Procedure.procedure_date, Procedure.udi_di).in_(
                        chunk
                    ),
                )
            ).all()
        )
    return [
        RowError(n, "patient_pseudonym", N_("already in the registry"))
        for n, key in enumerate(keys, start=2)
        if key in found
    ]


def import_extract(
    session: Session,
    actor: Actor,
    data: str | bytes,
    *,
    filename: str,
    today: date,
    hospital_code: str | None = None,
) -> ImportBatch:
    """Import an extract all-or-nothing: CSV text, or the bytes of a CSV (UTF-8) or an XLSX workbook.

    On any problem nothing is written and every problem is listed in ``details["errors"]`` as
    ``{row, field, reason}``. Rows are only inserted once the whole file is clean, in the caller's
    transaction: a failure (or a killed process) before the commit leaves nothing behind.
    """
    site = hospital_of(session, actor, hospital_code)
    rows, errors = validate_file(data, site.device_groups, today)
    if not errors:
        errors = _existing_clashes(session, site, rows)
    if errors:
        raise ValidationFailed(
            "The import was refused: {count} problems; nothing was saved.",
            field="file",
            params={"count": len(errors)},
            details={"errors": [e.as_dict() for e in errors[:1000]]},
        )
    digest = hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()
    batch = ImportBatch(
        hospital_id=site.id,
        filename=filename[:200],
        sha256=digest,
        rows=len(rows),
        imported_by=actor.username,
    )
    session.add(batch)
    session.flush()
    procedures = [
        Procedure(
            hospital_id=site.id,
            batch_id=batch.id,
            patient_pseudonym=r.patient_pseudonym,
            procedure_date=r.procedure_date,
            device_group=r.device_group,
            udi_raw=r.udi_raw,
            udi_di=r.udi_di,
            udi_lot=r.udi_lot,
            udi_serial=r.udi_serial,
            udi_expiry=r.udi_expiry,
            age=r.age,
            sex=r.sex,
            diabetes=r.diabetes,
            renal_failure=r.renal_failure,
            prior_mi=r.prior_mi,
            ejection_fraction=r.ejection_fraction,
            follow_up_end=r.follow_up_end,
        )
        for r in rows
    ]
    session.add_all(procedures)
    session.flush()
    session.add_all(
        [
            Outcome(procedure_id=p.id, kind=kind, event_date=d)
            for p, r in zip(procedures, rows, strict=True)
            for kind, d in r.outcomes.items()
        ]
    )
    session.flush()
    earliest: dict[tuple[str, str], date] = {}
    for r in rows:
        key = (r.device_group, r.udi_di)
        earliest[key] = min(earliest.get(key, r.procedure_date), r.procedure_date)
    registry_changed(session, earliest)
    audit.record(
        session,
        actor,
        "surveillance.import",
        "surveillance_import_batch",
        batch.id,
        after={"hospital": site.code, "filename": batch.filename, "rows": len(rows), "sha256": digest},
    )
    return batch
