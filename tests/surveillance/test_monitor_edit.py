"""Editing a monitor (service_edit, both databases): name and notes at any time; the design before the
first look only (checked and its critical value computed again like a new monitor's); after it the
edit is refused (409 naming the field, nothing written) and a new monitor defined from it supersedes
it (the old one stopped with a reason naming the new one). Every change audited before/after."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from medreg.core import audit
from medreg.core.accounts import OrgKind, Role
from medreg.core.audit import AuditEvent
from medreg.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from medreg.surveillance import service_edit, service_monitoring
from medreg.surveillance.demo import DEVICES
from medreg.surveillance.maxsprt import poisson_critical_value
from medreg.surveillance.models import Look, Monitor
from tests.factories import actor_for, make_org, make_user

DESIGN = dict(
    name="Stent D TLF",
    device_group="coronary_stent",
    udi_di=DEVICES[3][1],
    outcome="target_lesion_failure",
    window_days=180,
    reference_start=date(2024, 1, 1),
    reference_end=date(2024, 12, 31),
    alpha=0.05,
    sample_size=30.0,
    min_events=1,
)


@pytest.fixture
def centre(db):
    return actor_for(make_user(db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE)))


def _look(db, m):
    """A first look (its numbers do not matter here: only that the monitor has taken one)."""
    db.add(
        Look(
            monitor_id=m.id,
            look_no=1,
            as_of=date(2025, 1, 31),
            procedures=10,
            observed=0.0,
            expected=0.5,
            llr=0.0,
            critical_value=m.critical_value,
        )
    )
    db.flush()


def _events(db, monitor_id):
    return [e for e in audit.history(db, "surveillance_monitor", monitor_id)]


def test_before_the_first_look_the_whole_design_is_edited_and_its_cv_recomputed(db, centre):
    m = service_monitoring.create_monitor(db, centre, **DESIGN)
    m.risk_model = {"names": []}  # as if fitted: an edited reference period needs a new fit
    service_edit.edit_monitor(db, centre, m.id, {"alpha": 0.01, "look_at": [0.5, 1], "notes": " why "})
    assert (m.alpha, m.look_plan, m.planned_looks, m.notes) == (0.01, [15.0, 30.0], 2, "why")
    assert m.critical_value == poisson_critical_value(30, 0.01, min_events=1, looks=[15, 15]).critical_value
    assert m.risk_model is None
    service_edit.edit_monitor(db, centre, m.id, {"planned_looks": None, "look_at": None, "sample_size": 20})
    assert m.look_plan is None and m.planned_looks is None
    assert m.critical_value == poisson_critical_value(20, 0.01, min_events=1).critical_value
    edit = _events(db, m.id)[-1]
    assert edit.action == "surveillance.monitor.edit"
    assert (edit.before["sample_size"], edit.after["sample_size"]) == (30.0, 20.0)
    assert edit.before["look_plan"] == [15.0, 30.0] and edit.after["look_plan"] is None
    with pytest.raises(ValidationFailed) as err:  # the same checks as a new monitor's
        service_edit.edit_monitor(db, centre, m.id, {"reference_end": date(2023, 1, 1)})
    assert err.value.field == "reference_end"
    with pytest.raises(ValidationFailed) as err:
        service_edit.edit_monitor(db, centre, m.id, {"critical_value": 1.0})
    assert err.value.field == "critical_value"


def test_after_the_first_look_only_name_and_notes_change(db, centre):
    m = service_monitoring.create_monitor(db, centre, **DESIGN, look_at=[0.5, 1])
    _look(db, m)
    before = len(_events(db, m.id))
    for change, field in (
        ({"alpha": 0.01}, "alpha"),
        ({"look_at": [0.25, 1]}, "look_at"),
        ({"name": "x", "planned_looks": None, "look_at": None}, "planned_looks"),
        ({"reference_start": date(2024, 2, 1)}, "reference_start"),
    ):
        with pytest.raises(Conflict) as err:
            service_edit.edit_monitor(db, centre, m.id, change)
        assert err.value.field == field and "new monitor" in err.value.template
    assert m.alpha == 0.05 and m.name == "Stent D TLF" and len(_events(db, m.id)) == before
    # the design as it is, sent again, is no change: name and notes are saved
    service_edit.edit_monitor(
        db, centre, m.id, {**service_edit.design_of(m), "name": "Stent D, TLF 180 d", "notes": "renamed"}
    )
    assert (m.name, m.notes, m.alpha) == ("Stent D, TLF 180 d", "renamed", 0.05)
    ev = _events(db, m.id)[-1]
    assert ev.action == "surveillance.monitor.edit" and set(ev.after) == {"name", "notes"}
    assert ev.before == {"name": "Stent D TLF", "notes": None}
    with pytest.raises(ValidationFailed):
        service_edit.edit_monitor(db, centre, m.id, {"name": "  "})
    with pytest.raises(NotFound):
        service_edit.edit_monitor(db, centre, 987654, {"name": "x"})
    registrant = actor_for(make_user(db, Role.REGISTRANT, org=make_org(db, OrgKind.REGISTRANT)))
    with pytest.raises(PermissionDenied):
        service_edit.edit_monitor(db, registrant, m.id, {"name": "x"})


def test_a_stopped_monitor_keeps_its_design_but_not_its_name(db, centre):
    from medreg.surveillance.service_stop import stop_monitor

    m = service_monitoring.create_monitor(db, centre, **DESIGN)
    stop_monitor(db, centre, m.id, "wrong device")
    with pytest.raises(Conflict):
        service_edit.edit_monitor(db, centre, m.id, {"min_events": 4})
    service_edit.edit_monitor(db, centre, m.id, {"name": "Old stent D"})
    assert m.name == "Old stent D"


def test_a_new_monitor_from_one_supersedes_it_and_stops_it(db, centre):
    old = service_monitoring.create_monitor(db, centre, **DESIGN)
    _look(db, old)
    design = {**service_edit.design_of(old), "name": "Stent D TLF (M = 4)", "min_events": 4, "notes": "n"}
    new = service_edit.supersede_monitor(db, centre, old.id, "M = 4 as Kulldorff & Silva advise", **design)
    assert new.id != old.id and new.supersedes_id == old.id and new.notes == "n"
    assert (
        new.min_events == 4
        and new.critical_value == poisson_critical_value(30, 0.05, min_events=4).critical_value
    )
    assert old.status == "stopped" and old.stopped_by is not None
    assert (
        old.stop_reason
        == f"Superseded by monitor {new.id} (Stent D TLF (M = 4)): M = 4 as Kulldorff & Silva advise"
    )
    assert service_edit.superseded_by(db, old.id) is new
    stop = _events(db, old.id)[-1]
    assert stop.action == "surveillance.monitor.stop" and stop.after["superseded_by"] == new.id
    assert stop.before["status"] == "active"
    created = _events(db, new.id)
    assert [e.action for e in created] == ["surveillance.monitor.create", "surveillance.monitor.supersede"]
    assert created[1].after["supersedes_id"] == old.id and created[1].after["reason"].startswith("M = 4")
    with pytest.raises(Conflict):  # superseded once
        service_edit.supersede_monitor(db, centre, old.id, "again", **design)
    with pytest.raises(ValidationFailed) as err:
        service_edit.supersede_monitor(db, centre, new.id, " ", **design)
    assert err.value.field == "reason"
    n = db.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    with pytest.raises(ValidationFailed) as err:  # a bad design: nothing is written
        service_edit.supersede_monitor(db, centre, new.id, "why", **{**design, "alpha": 0.9})
    assert db.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) == n
    assert db.scalar(select(Monitor).where(Monitor.supersedes_id == new.id)) is None
