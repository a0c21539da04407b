"""Editing a monitor from the pages, and "define a new monitor from this one" (monitoring centre).

``/surveillance/monitors/{id}/edit``: before the monitor's first look (and while it is active) the
whole definition form, prefilled; after it, the name and notes only, with the reason and a link to
``/surveillance/monitors/{id}/supersede``: the definition form prefilled with this monitor's design
and the reasons for the new monitor, which supersedes this one (stopped with those reasons). Same
schemas and services as the JSON twins (``MonitorEdit`` / ``MonitorSupersede``, ``service_edit``);
a refusal names the field, 4xx, the form kept, nothing written. The monitor page links both forms
(``core.related``) and the monitor superseding it or superseded by it."""

from __future__ import annotations

from fastapi import Depends, Path, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session

from medreg.core.actor import Actor
from medreg.core.db import MAX_ID
from medreg.core.deps import get_session, pages_router, require_login
from medreg.core.errors import DomainError, NotFound
from medreg.core.i18n import _
from medreg.core.related import RelatedLink, register_related
from medreg.core.templating import render
from medreg.premarket.innovation.pages_forms import form_error, refused, see_other
from medreg.surveillance import queries, service_edit
from medreg.surveillance.access import is_centre, require_centre
from medreg.surveillance.pages_monitors import (
    BINOMIAL,
    DELTA,
    DESIGN,
    DEVICE,
    FIELDS,
    KIND_LABELS,
    LOOKS,
    SPENDING_LABELS,
    _refusal,
    monitor_values,
)
from medreg.surveillance.pages_registry import GROUP_LABELS, OUTCOME_LABELS
from medreg.surveillance.schemas import MonitorEdit, MonitorSupersede

router = pages_router(prefix="/surveillance/monitors", tags=["surveillance pages"])
Db = Depends(get_session)
Who = Depends(require_login)
MonitorId = Path(ge=1, le=MAX_ID)
FORM = "monitor-edit"


def _values(m) -> dict:
    """The monitor's definition as the form shows it."""
    design = service_edit.design_of(m)
    v = {
        f.name: f"{design[f.name]:.15g}" if isinstance(design.get(f.name), float) else str(design[f.name])
        for f in FIELDS
        if design.get(f.name) is not None
    }
    v["name"], v["notes"] = m.name, m.notes or ""
    for key in ("device_group", "outcome", "kind", "delta_spending"):
        v[key] = str(design.get(key) or "")
    v["registrant_org_id"] = str(m.registrant_org_id or "")
    if design.get("look_at"):
        v["looks"], v["look_at"] = "look_at", ",".join(f"{x:.15g}" for x in design["look_at"])
    else:
        v["looks"] = "continuous"
    return v


def _form_values(form) -> dict:
    values = monitor_values(form)
    if str(form.get("looks") or "continuous") == "continuous":
        values.update(planned_looks=None, look_at=None)
    return values


def _shown(form) -> dict:
    return {**{k: str(v) for k, v in form.items() if isinstance(v, str)}}


def _page(request, session, actor, m, mode: str, values: dict, error=None, status_code: int = 200):
    return render(
        request,
        "surveillance/monitor_edit.html",
        {
            "m": m,
            "mode": mode,
            "v": values,
            "error": error,
            "form": FORM,
            "registrants": queries.registrant_names(session, actor),
            "device_fields": DEVICE,
            "design_fields": DESIGN,
            "delta_fields": DELTA,
            "binomial_fields": BINOMIAL,
            "kind_labels": KIND_LABELS,
            "spending_labels": SPENDING_LABELS,
            "looks_labels": LOOKS,
            "group_labels": GROUP_LABELS,
            "outcome_labels": OUTCOME_LABELS,
            "superseded_by": service_edit.superseded_by(session, m.id),
        },
        status_code=status_code,
    )


def _monitor(session: Session, actor: Actor, monitor_id: int):
    require_centre(actor)
    return queries.monitor_looks(session, actor, monitor_id)[0]


def _mode(session: Session, m) -> str:
    return "design" if m.status == "active" and not service_edit.has_looked(session, m.id) else "text"


@router.get("/{monitor_id}/edit")
def edit_form(request: Request, monitor_id: int = MonitorId, session: Session = Db, actor: Actor = Who):
    m = _monitor(session, actor, monitor_id)
    return _page(request, session, actor, m, _mode(session, m), _values(m))


@router.post("/{monitor_id}/edit")
async def edit(request: Request, monitor_id: int = MonitorId, session: Session = Db, actor: Actor = Who):
    """Save the edit (``service_edit.edit_monitor``, audited ``surveillance.monitor.edit``)."""
    m = _monitor(session, actor, monitor_id)
    form = await request.form()
    mode = "design" if form.get("design") == "1" else "text"
    values = _form_values(form) if mode == "design" else {}
    values.update(name=str(form.get("name") or ""), notes=str(form.get("notes") or ""))
    try:
        try:
            changes = MonitorEdit.model_validate(values).model_dump(exclude_unset=True)
        except ValidationError as exc:
            raise _refusal(exc) from None
        service_edit.edit_monitor(session, actor, monitor_id, changes)
    except DomainError as err:
        refused(session, err)
        m = _monitor(session, actor, monitor_id)
        return _page(
            request,
            session,
            actor,
            m,
            mode,
            _shown(form),
            form_error(request, FORM, err, form),
            err.http_status,
        )
    return see_other(f"/surveillance/monitors/{monitor_id}?edited=1")


@router.get("/{monitor_id}/supersede")
def supersede_form(request: Request, monitor_id: int = MonitorId, session: Session = Db, actor: Actor = Who):
    m = _monitor(session, actor, monitor_id)
    return _page(request, session, actor, m, "supersede", _values(m))


@router.post("/{monitor_id}/supersede")
async def supersede(request: Request, monitor_id: int = MonitorId, session: Session = Db, actor: Actor = Who):
    """Define the new monitor (``service_edit.supersede_monitor``; the old one stopped if active)."""
    _monitor(session, actor, monitor_id)
    form = await request.form()
    values = {k: v for k, v in _form_values(form).items() if v is not None}
    values.update(reason=str(form.get("reason") or ""), notes=str(form.get("notes") or ""))
    try:
        try:
            body = MonitorSupersede.model_validate(values).model_dump()
        except ValidationError as exc:
            raise _refusal(exc) from None
        reason = body.pop("reason")
        new = service_edit.supersede_monitor(session, actor, monitor_id, reason, **body)
    except DomainError as err:
        refused(session, err)
        m = _monitor(session, actor, monitor_id)
        return _page(
            request,
            session,
            actor,
            m,
            "supersede",
            _shown(form),
            form_error(request, FORM, err, form),
            err.http_status,
        )
    return see_other(f"/surveillance/monitors/{new.id}")


def _links(session: Session, actor: Actor, monitor_id: int) -> list[RelatedLink]:
    """On a monitor's page: the monitor it supersedes or that supersedes it (if the reader may see
    it), and for the centre the edit and "define a new monitor from this one" forms."""
    try:
        m = queries.monitor_looks(session, actor, monitor_id)[0]
    except (NotFound, DomainError):
        return []
    out = []
    for other, label, key in (
        (service_edit.superseded_by(session, m.id), _("Superseded by monitor"), "superseded-by"),
        (m.supersedes_id, _("Supersedes monitor"), "supersedes"),
    ):
        other_id = other if isinstance(other, int) else (other.id if other is not None else None)
        if other_id is None:
            continue
        try:
            o = queries.monitor_looks(session, actor, other_id)[0]
        except DomainError:
            continue
        out.append(RelatedLink(f"/surveillance/monitors/{o.id}", label, key=key, detail=f"#{o.id} {o.name}"))
    if is_centre(actor):
        out.append(RelatedLink(f"/surveillance/monitors/{m.id}/edit", _("Edit the monitor"), key="edit"))
        out.append(
            RelatedLink(
                f"/surveillance/monitors/{m.id}/supersede",
                _("Define a new monitor from this one"),
                key="supersede",
            )
        )
    return out


register_related("surveillance_monitor", "monitor-edit", _links)
