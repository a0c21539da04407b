"""The registration domain's daily job: flag late post-approval obligations and apply renewals
deemed granted (Order 47 Art.63 and Art.84; 739 Art.22). Run by the worker (``medreg worker`` or
the demo's in-process worker); start it from the jobs page or ``medreg jobs enqueue registration.daily``.

Each step commits on its own and is checkpointed, so a crash resumes at the next step.
"""

from __future__ import annotations

from datetime import date

from medreg.core.actor import Actor
from medreg.core.clock import today_shanghai
from medreg.core.errors import ValidationFailed
from medreg.core.jobs import JobContext, job_handler
from medreg.premarket.registration import service

STEPS = ("late_obligations", "deemed_renewals")


def _validate(params: dict) -> dict:
    unknown = set(params) - {"today"}
    if unknown:
        raise ValidationFailed("Unknown parameter(s) for registration.daily: {names}.", field="params",
                               params={"names": ", ".join(sorted(unknown))})
    if "today" in params:
        try:
            date.fromisoformat(str(params["today"]))
        except ValueError as exc:
            raise ValidationFailed("Dates are YYYY-MM-DD.", field="today") from exc
    return params


@job_handler("registration.daily", validate=_validate)
def daily(ctx: JobContext) -> None:
    today = date.fromisoformat(ctx.params["today"]) if "today" in ctx.params else today_shanghai()
    state = dict(ctx.checkpoint or {"done": [], "counts": {}})
    for i, step in enumerate(STEPS):
        if step in state["done"]:
            continue
        ctx.progress(i, len(STEPS), step)
        with ctx.session() as session:
            if step == "late_obligations":
                changed = service.mark_late_obligations(session, Actor.system(), today)
            else:
                changed = service.apply_deemed_renewals(session, Actor.system(), today)
            state["done"].append(step)
            state["counts"][step] = len(changed)
            ctx.save_checkpoint(state, done=i + 1, total=len(STEPS), message=step, session=session)
    ctx.set_result({"today": today.isoformat(), **state["counts"]})
