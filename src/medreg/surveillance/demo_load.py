"""Load the made-up demo registry through the services (sites, imports, monitors, monthly looks)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.core.accounts import Organisation, OrgKind
from medreg.core.actor import Actor
from medreg.surveillance import service, service_monitoring
from medreg.surveillance.demo import DEVICES, PLANTED_DI, generate, to_csv
from medreg.surveillance.models import Monitor, SentinelHospital

__all__ = ["MONITORED", "load_demo", "monthly_looks"]

MONITORED = (DEVICES[3], DEVICES[0], DEVICES[1])  # the planted stent D, and stents A and B (in control)


def monthly_looks(first: date, last: date) -> list[date]:
    out, d = [], first
    while d <= last:
        out.append(d)
        d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return out


def loaded(session: Session) -> bool:
    """Whether a sentinel hospital is enrolled (``medreg demo load`` then leaves the registry alone)."""
    return session.scalar(select(SentinelHospital.id).limit(1)) is not None


def load_registry(session: Session, actor: Actor, *, seed: int = 2025, n_procedures: int = 6000):
    """The made-up sites and their procedures only (no monitor); returns the generated registry."""
    reg = generate(seed, n_procedures)
    for code, rows in reg.rows_by_hospital.items():
        name = f"{code} 示例哨点医院 (demo, made up)"
        org = session.scalar(select(Organisation).where(Organisation.name == name))
        if org is None:
            org = Organisation(
                kind=OrgKind.HOSPITAL, name=name, name_en=f"{code} demo sentinel hospital", province="Beijing"
            )
            session.add(org)
            session.flush()
        if session.scalar(select(SentinelHospital).where(SentinelHospital.code == code)) is None:
            service.enrol_hospital(
                session,
                actor,
                organisation_id=org.id,
                code=code,
                device_groups=["coronary_stent", "tavr_valve"],
                enrolled_on=reg.start,
            )
        service.import_extract(
            session, actor, to_csv(rows), filename=f"{code}-demo.csv", today=reg.cutoff, hospital_code=code
        )
    return reg


def load_demo(session: Session, actor: Actor, *, seed: int = 2025, n_procedures: int = 6000) -> str:
    reg = load_registry(session, actor, seed=seed, n_procedures=n_procedures)
    monitors = []
    for group, di, label, _ in MONITORED:
        monitors.append(
            service_monitoring.create_monitor(
                session,
                actor,
                name=label,
                device_group=group,
                udi_di=di,
                outcome="target_lesion_failure",
                window_days=180,
                reference_start=reg.start,
                reference_end=reg.reference_end,
                alpha=0.05,
                sample_size=60.0,
                min_events=4,
            )
        )
    for day in monthly_looks(date(2025, 2, 1), reg.cutoff):
        for m in monitors:
            if m.status == "active":
                service_monitoring.run_monitor(session, actor, m, day)
    lines = [f"demo registry: {reg.n} made-up procedures at {len(reg.rows_by_hospital)} sites (seed {seed})"]
    for m in session.scalars(select(Monitor).where(Monitor.id.in_([x.id for x in monitors]))):
        planted = " (planted)" if m.udi_di == PLANTED_DI else ""
        lines.append(f"monitor {m.id} {m.name}{planted}: {m.status}")
    return "\n".join(lines)
