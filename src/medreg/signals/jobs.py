"""The ``signals.run`` background job: the steps of ``runs`` with progress and a checkpoint after each,
so that a worker that dies resumes at the next step (the snapshot is not exported twice, the scores are
not recomputed). Start it from the jobs page or ``medreg jobs enqueue signals.run --params '{...}'``.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from pathlib import Path

from medreg.core.accounts import Role
from medreg.core.actor import Actor
from medreg.core.errors import ValidationFailed
from medreg.core.jobs import JobContext, job_handler
from medreg.signals import pipeline, snapshot
from medreg.signals.runs import RunSettings, export_step, record_step, score_step

STEPS = ("export", "score", "record")
_TYPES = {f.name: f.type for f in fields(RunSettings)}


def settings_of(params: dict) -> RunSettings:
    unknown = set(params) - set(_TYPES)
    if unknown:
        raise ValidationFailed("Unknown parameter(s) for signals.run: {names}.", field="params",
                               params={"names": ", ".join(sorted(unknown))})
    try:
        return RunSettings(**params).check()
    except TypeError as err:
        raise ValidationFailed("Parameters of signals.run: {reason}", field="params",
                               params={"reason": str(err)}) from None


def _validate(params: dict) -> dict:
    return asdict(settings_of(params))


@job_handler("signals.run", roles=(Role.ADMIN, Role.MONITORING_CENTRE), validate=_validate)
def run_job(ctx: JobContext) -> None:
    settings = settings_of(ctx.params)
    actor = Actor.system()
    state = dict(ctx.checkpoint or {})
    folder = Path(settings.folder)
    if "snapshot" not in state:
        ctx.progress(0, len(STEPS), "export")
        with ctx.session() as session:
            snap = export_step(session, actor, settings)
        state["snapshot"] = snap.version
        ctx.save_checkpoint(state, done=1, total=len(STEPS), message="export")
    snap = snapshot.load(folder, state["snapshot"])
    if "scores" not in state:
        ctx.progress(1, len(STEPS), "score")
        events, scored = score_step(settings, snap)
        target = events.with_name(f"{events.stem}.run{ctx.job_id}.scores.parquet")
        pipeline.save_scored(scored, target)
        state.update(events=str(events), scores=str(target))
        ctx.save_checkpoint(state, done=2, total=len(STEPS), message="score")
    if "result" in state:  # recorded, but the worker died before the job was marked done
        ctx.set_result(state["result"])
        return
    scored = pipeline.load_scored(Path(state["scores"]))
    with ctx.session() as session:
        run = record_step(session, actor, settings, snap, Path(state["events"]), scored)
        state["result"] = {"run_id": run.id, "snapshot_version": snap.version, "reports": snap.reports,
                           "pairs": run.pairs, "flagged": run.flagged, "opened": run.opened,
                           "updated": run.updated}
        ctx.save_checkpoint(state, done=3, total=len(STEPS), message="record", session=session)
    ctx.set_result(state["result"])
