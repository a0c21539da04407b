"""Background jobs of signal detection, resumable after a restart.

``signals.snapshot`` exports the next snapshot of the report base and queues one ``signals.run`` per
active configured analysis (``signals.analyses``) on it: the centre schedules it (``scheduling.py``:
the analyses page, ``medreg signals schedule``, ``PUT /api/signals/schedule``) and the worker starts it
at the due times; ``medreg jobs enqueue signals.snapshot -p folder=DIR`` runs it once. Both kinds are
overseen by the centre: its users see every job of them (the scheduled ones are queued by ``system``).
``signals.run`` runs one analysis in steps with progress and a checkpoint after each, so that a worker
that dies resumes at the next step: the snapshot is not exported twice, the scores are not recomputed,
the runs are not queued twice (the checkpoint that lists them is committed with the queued jobs).
A job of either kind that ends without success (failed on its last attempt, or cancelled) while its
export was unfinished has that export's files removed (:func:`remove_unfinished_export`): no half
snapshot is left in the folder; a ``signals.run`` that ends so before recording also has its score file
removed (:func:`remove_unrecorded_scores`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, fields, replace
from pathlib import Path

from medreg.core.accounts import Role
from medreg.core.actor import Actor
from medreg.core.errors import ValidationFailed
from medreg.core.jobs import Job, JobContext, job_handler
from medreg.core.settings import get_settings
from medreg.signals import analyses, bridge, pipeline, retention, snapshot  # noqa: F401 (bridge: handlers)
from medreg.signals.runs import RunSettings, export_step, record_step, score_step

STEPS = ("export", "score", "record")
_TYPES = {f.name: f.type for f in fields(RunSettings)}
ROLES = (Role.ADMIN, Role.MONITORING_CENTRE)


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


def _export_once(ctx: JobContext, state: dict, folder: Path,
                 export: Callable[[Callable[[int], None]], snapshot.Snapshot]) -> int:
    """The snapshot version of this job: exported once, even when the worker died right after writing it
    (the version before the export is checkpointed first, under the folder's export lock, so it is the
    one this job writes after; a manifest is written last, so a newer manifest found on resume is this
    job's complete export, or a later one)."""
    if "snapshot" in state:
        return state["snapshot"]
    before = state.get("exporting_after")
    if before is not None and (latest := snapshot.latest(folder)) is not None and latest.version > before:
        version = before + 1
    else:
        def started(newest: int) -> None:
            state["exporting_after"] = newest
            ctx.save_checkpoint(state)

        version = export(started).version
    state["snapshot"] = version
    state.pop("exporting_after", None)
    return version


def remove_unfinished_export(session, job: Job, reason: str) -> None:
    """``on_abandon`` of both kinds: the files of an export this job started and did not finish (its
    checkpoint says it was exporting and no manifest was written) are removed; a finished snapshot is
    kept. Idempotent; touches no table."""
    state = job.checkpoint or {}
    folder = (job.params or {}).get("folder")
    if "snapshot" in state or state.get("exporting_after") is None or not folder:
        return
    version = int(state["exporting_after"]) + 1
    removed = snapshot.remove_unfinished(Path(folder), version)
    if removed:
        job.message = f"{job.status}: unfinished snapshot v{version} removed ({', '.join(removed)})"


def remove_unrecorded_scores(session, job: Job, reason: str) -> None:
    """``on_abandon`` of ``signals.run``: the unfinished export as :func:`remove_unfinished_export`, and
    the score file of this job (Parquet and its JSON side file) unless the run was recorded: a run that
    failed for good leaves nothing next to the snapshot but the analysis table, which is not the job's
    own (any run of the same settings on that snapshot writes and reads it). The file is found from the
    checkpoint, or, when the worker died while scoring (before checkpointing it), from the snapshot
    version and the settings, as the job names it. Idempotent; touches no table."""
    remove_unfinished_export(session, job, reason)
    state = job.checkpoint or {}
    if "result" in state or "snapshot" not in state:
        return
    target = Path(state["scores"]) if "scores" in state else None
    if target is None:
        try:
            settings = settings_of(dict(job.params or {}))
        except ValidationFailed:
            return
        snap = Path(settings.folder) / f"v{int(state['snapshot']):06d}.parquet"
        target = pipeline.scores_path(pipeline.events_path(snap, settings.level, settings.annexes,
                                                           settings.device_level, settings.strata_names),
                                      job.id)
    removed = pipeline.remove_scored(target)
    if removed:
        job.message = f"{job.status}: scores of the unrecorded run removed ({', '.join(removed)})"


@job_handler("signals.run", roles=ROLES, validate=_validate, oversee=ROLES,
             on_abandon=remove_unrecorded_scores)
def run_job(ctx: JobContext) -> None:
    settings = settings_of(ctx.params)
    actor = Actor.system()
    state = dict(ctx.checkpoint or {})
    folder = Path(settings.folder)
    if "snapshot" not in state:
        ctx.progress(0, len(STEPS), "export")

        def export(started=None) -> snapshot.Snapshot:
            with ctx.session() as session:
                return export_step(session, actor, settings, started)

        newest = snapshot.latest(folder) if settings.latest else None
        if settings.snapshot_version is not None or newest is not None:  # an existing snapshot
            state["snapshot"] = export().version
        else:
            _export_once(ctx, state, folder, export)
        ctx.save_checkpoint(state, done=1, total=len(STEPS), message="export")
    snap = snapshot.load(folder, state["snapshot"])
    if "scores" not in state:
        ctx.progress(1, len(STEPS), "score")
        events, scored = score_step(settings, snap)
        target = pipeline.scores_path(events, ctx.job_id)
        pipeline.save_scored(scored, target)
        state.update(events=str(events), scores=str(target))
        ctx.save_checkpoint(state, done=2, total=len(STEPS), message="score")
    if "result" in state:  # recorded, but the worker died before the job was marked done
        pipeline.remove_scored(Path(state["scores"]))
        ctx.set_result(state["result"])
        return
    scored = pipeline.load_scored(Path(state["scores"]))
    if settings.latest:  # named after the snapshot it found, as the runs queued after a snapshot
        settings = replace(settings, label=f"{settings.label[:100]} v{snap.version}")
    with ctx.session(immediate=True) as session:
        run = record_step(session, actor, settings, snap, Path(state["events"]), scored)
        state["result"] = {"run_id": run.id, "snapshot_version": snap.version, "reports": snap.reports,
                           "pairs": run.pairs, "flagged": run.flagged, "opened": run.opened,
                           "updated": run.updated, "device_level": run.device_level,
                           "strata": run.strata, "engine": run.engine}
        ctx.save_checkpoint(state, done=3, total=len(STEPS), message="record", session=session)
    # recorded and checkpointed: the scores are in the database, a resumed job no longer reads the file
    pipeline.remove_scored(Path(state["scores"]))
    ctx.set_result(state["result"])


MAX_KEEP = 10_000  # snapshot versions a signals.snapshot job (and the schedule that starts it) may keep


def _validate_snapshot(params: dict) -> dict:
    unknown = set(params) - {"folder", "incremental", "keep"}
    if unknown:
        raise ValidationFailed("Unknown parameter(s) for signals.snapshot: {names}.", field="params",
                               params={"names": ", ".join(sorted(unknown))})
    folder = params.get("folder")
    if not isinstance(folder, str) or not folder.strip() or len(folder) > 500:
        raise ValidationFailed("Give the snapshot folder.", field="folder")
    incremental = params.get("incremental", True)
    if isinstance(incremental, str):
        incremental = incremental.strip().lower() not in ("0", "false", "no")
    keep = params.get("keep")
    if keep is not None:
        try:
            keep = int(keep)
        except (TypeError, ValueError):
            keep = 0
        if isinstance(params.get("keep"), bool) or not 1 <= keep <= MAX_KEEP:
            raise ValidationFailed(
                "Keep at least the newest snapshot: give a whole number from 1 to {limit}.", field="keep",
                params={"limit": MAX_KEEP})
    out = {"folder": folder.strip(), "incremental": bool(incremental)}
    return out | ({"keep": keep} if keep is not None else {})


@job_handler("signals.snapshot", roles=ROLES, validate=_validate_snapshot, oversee=ROLES,
             on_abandon=remove_unfinished_export)
def snapshot_job(ctx: JobContext) -> None:
    """Export the next snapshot, then queue the configured analyses on it, then, with ``keep`` (the
    parameter, or the ``signals_keep_snapshots`` setting), remove the older versions
    (``retention.py``; each step checkpointed)."""
    params = _validate_snapshot(ctx.params)
    folder, actor = Path(params["folder"]), Actor.system()
    state = dict(ctx.checkpoint or {})
    if "snapshot" not in state:
        ctx.progress(0, 2, "export")

        def export(started) -> snapshot.Snapshot:
            # reads only: on SQLite a unit that reads for long and then writes fails ("database is
            # locked": its WAL read snapshot cannot become a write once the heartbeat has committed)
            with ctx.session() as session:
                return snapshot.export(session, actor, folder, incremental=params["incremental"],
                                       started=started)

        _export_once(ctx, state, folder, export)
        with ctx.session(immediate=True) as session:  # audited once, with the checkpoint that records it
            analyses.audit_snapshot(session, actor, folder, snapshot.load(folder, state["snapshot"]))
            ctx.save_checkpoint(state, done=1, total=2, message="export", session=session)
    if "runs" not in state:
        with ctx.session(immediate=True) as session:  # reads the analyses, then queues their runs
            state["runs"] = analyses.enqueue_runs(session, actor, folder, state["snapshot"])
            ctx.save_checkpoint(state, done=2, total=2, message="enqueue", session=session)
    keep = params.get("keep", get_settings().signals_keep_snapshots)
    if keep is not None and "pruned" not in state:
        with ctx.session(immediate=True) as session:  # audited with the checkpoint that lists the files
            prune = retention.plan(session, actor, folder, keep)
            retention.record(session, actor, prune)
            state["pruned"] = {"versions": [v["version"] for v in prune.removed], "files": prune.files}
            ctx.save_checkpoint(state, done=3, total=3, message="prune", session=session)
    if "pruned" in state:  # idempotent: a worker that died while removing removes the rest
        retention.remove(folder, state["pruned"]["files"])
    result = {"snapshot_version": state["snapshot"], "runs": state["runs"]}
    ctx.set_result(result | ({"removed_versions": state["pruned"]["versions"]} if "pruned" in state else {}))
