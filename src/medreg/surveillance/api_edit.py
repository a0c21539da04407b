"""JSON API of editing a monitor and of defining a new monitor that supersedes one (thin; the rules
are ``service_edit``'s): ``PATCH /api/surveillance/monitors/{id}`` and
``POST /api/surveillance/monitors/{id}/supersede``."""

from fastapi import Depends, Path
from sqlalchemy.orm import Session

from medreg.core.actor import Actor
from medreg.core.db import MAX_ID
from medreg.core.deps import api_router, get_session, require_login
from medreg.surveillance import service_edit
from medreg.surveillance.schemas import MonitorEdit, MonitorRead, MonitorSupersede

router = api_router(prefix="/api/surveillance", tags=["surveillance"])


@router.patch("/monitors/{monitor_id}", response_model=MonitorRead)
def edit_monitor(body: MonitorEdit, monitor_id: int = Path(ge=1, le=MAX_ID),
                 session: Session = Depends(get_session), actor: Actor = Depends(require_login)):
    """Edit a monitor (monitoring centre): name and notes at any time; its design only before its
    first look (409 after it, naming the field: define a new monitor from this one). Audited."""
    return service_edit.edit_monitor(session, actor, monitor_id, body.model_dump(exclude_unset=True))


@router.post("/monitors/{monitor_id}/supersede", response_model=MonitorRead, status_code=201)
def supersede_monitor(body: MonitorSupersede, monitor_id: int = Path(ge=1, le=MAX_ID),
                      session: Session = Depends(get_session), actor: Actor = Depends(require_login)):
    """Define a new monitor from this one (monitoring centre): it records the monitor it supersedes,
    which, if active, is stopped with the reason naming the new one. Audited."""
    values = body.model_dump()
    reason = values.pop("reason")
    return service_edit.supersede_monitor(session, actor, monitor_id, reason, **values)
