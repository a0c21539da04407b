"""Read side of surveillance, with tenancy: a hospital sees its own procedures, a registrant the
monitors of its own devices, the monitoring centre everything."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from medreg.core.accounts import Organisation, OrgKind, Role
from medreg.core.actor import Actor
from medreg.core.errors import NotFound, PermissionDenied
from medreg.premarket.registration import queries as registration_queries
from medreg.surveillance.access import is_centre
from medreg.surveillance.models import AlertCase, Look, Monitor, Procedure, SentinelHospital
from medreg.surveillance.schemas import DeviceCertificate

__all__ = ["get_alert", "list_alerts", "list_monitors", "list_procedures", "monitor_looks",
           "registrant_names"]


def list_procedures(
    session: Session, actor: Actor, *, limit: int = 100, offset: int = 0
) -> tuple[int, list[Procedure]]:
    q = select(Procedure)
    if not is_centre(actor):
        if not actor.has(Role.HOSPITAL) or actor.organisation_id is None:
            raise PermissionDenied("Only sentinel hospitals and the monitoring centre may see procedures.")
        q = q.join(SentinelHospital, SentinelHospital.id == Procedure.hospital_id).where(
            SentinelHospital.organisation_id == actor.organisation_id
        )
    total = session.scalar(select(func.count()).select_from(q.subquery()))
    rows = session.scalars(q.order_by(Procedure.id).limit(min(limit, 1000)).offset(offset)).all()
    return int(total), list(rows)


def _visible_monitors(actor: Actor):
    q = select(Monitor)
    if is_centre(actor):
        return q
    if actor.has(Role.REGISTRANT) and actor.organisation_id is not None:
        return q.where(Monitor.registrant_org_id == actor.organisation_id)
    raise PermissionDenied("Only the monitoring centre and registrants may see monitoring results.")


def list_monitors(session: Session, actor: Actor) -> list[Monitor]:
    return list(session.scalars(_visible_monitors(actor).order_by(Monitor.id)).all())


def monitor_looks(session: Session, actor: Actor, monitor_id: int) -> tuple[Monitor, list[Look]]:
    monitor = session.scalar(_visible_monitors(actor).where(Monitor.id == monitor_id))
    if monitor is None:
        raise NotFound("No such monitor.", field="monitor_id")
    looks = session.scalars(select(Look).where(Look.monitor_id == monitor_id).order_by(Look.look_no)).all()
    return monitor, list(looks)


def registrant_names(session: Session, actor: Actor) -> dict[int, str]:
    """The registrants a monitor may be attributed to (the monitoring centre's monitor form), by id."""
    if not is_centre(actor):
        raise PermissionDenied("Only the monitoring centre may do this.")
    rows = session.execute(
        select(Organisation.id, Organisation.name)
        .where(Organisation.kind == OrgKind.REGISTRANT)
        .order_by(Organisation.name)
    )
    return {org_id: name for org_id, name in rows}


def list_alerts(session: Session, actor: Actor) -> list[AlertCase]:
    visible = _visible_monitors(actor).with_only_columns(Monitor.id)
    return list(
        session.scalars(
            select(AlertCase).where(AlertCase.monitor_id.in_(visible)).order_by(AlertCase.id)
        ).all()
    )


def get_alert(session: Session, actor: Actor, alert_id: int) -> tuple[AlertCase, Monitor, Look, list[Look]]:
    """One alert with its monitor, its look and all the monitor's looks (the boundary chart); tenancy as
    for the monitors (a registrant: its own devices; NotFound for another's; hospitals: refused)."""
    visible = _visible_monitors(actor).with_only_columns(Monitor.id)
    alert = session.scalar(select(AlertCase).where(AlertCase.id == alert_id,
                                                   AlertCase.monitor_id.in_(visible)))
    if alert is None:
        raise NotFound("No such alert.", field="alert_id")
    monitor, looks = monitor_looks(session, actor, alert.monitor_id)
    look = next(lk for lk in looks if lk.id == alert.look_id)
    return alert, monitor, look, looks


def device_certificate(session: Session, actor: Actor, di: str) -> DeviceCertificate | None:
    """The registration certificate of the implant with UDI-DI ``di`` (the GTIN-14 ``biip`` parsed
    from its UDI), through the registration domain's read side; None when no registrant declared the
    DI for a certificate: the link is never inferred from names or models."""
    cert = registration_queries.certificate_for_di(session, actor, di)
    if cert is None:
        return None
    return DeviceCertificate(di=di, certificate_id=cert.id, number=cert.number,
                             product_name=cert.product_name, registrant_name=cert.registrant_name,
                             status=cert.status, valid_until=cert.valid_until)
