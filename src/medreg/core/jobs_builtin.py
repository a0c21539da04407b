"""Built-in job kinds: ``audit.verify`` and ``files.verify`` (rehash every stored file).

``audit.verify``: walk the audit hash chain in batches, with progress and a
checkpoint after each batch (the last verified event's ``seq`` and hash), so a restarted worker
resumes where it stopped. The detailed diagnosis of a broken chain is that of
:func:`medreg.core.audit_verify.verify_report`, the same as ``medreg audit verify``.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import func, select

from medreg.core import audit, audit_verify, files
from medreg.core.accounts import Role
from medreg.core.errors import ValidationFailed
from medreg.core.jobs import JobContext, job_handler

PROBLEMS_KEPT = 200  # problems carried in the checkpoint and the result


def _validate_verify(params: dict) -> dict:
    unknown = set(params) - {"batch"}
    if unknown:
        raise ValidationFailed("Unknown parameter(s) for audit.verify: {names}.", field="params",
                               params={"names": ", ".join(sorted(unknown))})
    try:
        batch = int(params.get("batch", 1000))
    except (TypeError, ValueError):
        batch = 0
    if not 10 <= batch <= 100_000:
        raise ValidationFailed("'batch' must be a whole number from 10 to 100000.", field="params.batch")
    return {"batch": batch}


def _row_problems(row: Any, expected_seq: int, prev_hash: str) -> list[dict]:
    """What is wrong with one event, given the previous verified one (seq and hash)."""
    out = []
    label = f"event #{row.seq} (id {row.id}, {row.action} {row.entity_type} {row.entity_id})"
    if row.seq > expected_seq:
        out.append({"seq": expected_seq, "kind": "missing",
                    "message": f"event(s) #{expected_seq}..#{row.seq - 1} are missing before {label}"})
    elif row.seq < expected_seq:
        out.append({"seq": row.seq, "kind": "reordered", "message": f"{label} repeats a sequence number"})
    recomputed = audit.event_hash(
        seq=row.seq, at=row.at, actor_user_id=row.actor_user_id, actor_username=row.actor_username,
        action=row.action, entity_type=row.entity_type, entity_id=row.entity_id, before=row.before,
        after=row.after, note=row.note, prev_hash=row.prev_hash)
    if recomputed != row.hash:
        out.append({"seq": row.seq, "kind": "edited", "message": f"{label} does not match its hash"})
    elif row.prev_hash != prev_hash and not out:
        out.append({"seq": row.seq, "kind": "broken_link",
                    "message": f"{label} does not link to the event before it"})
    return out


@job_handler("audit.verify", roles=(Role.ADMIN,), validate=_validate_verify)
def verify_audit_chain(ctx: JobContext) -> None:
    batch = int(ctx.params.get("batch", 1000))
    events = audit.AuditEvent.__table__
    state = ctx.checkpoint or {"last_seq": 0, "last_hash": audit.GENESIS_HASH, "checked": 0,
                               "problem_count": 0, "problems": []}
    with ctx.session() as s:
        total = s.scalar(select(func.count()).select_from(events)) or 0
    while True:
        with ctx.session() as s:
            rows = s.execute(select(events).where(events.c.seq > state["last_seq"])
                             .order_by(events.c.seq).limit(batch)).all()
        for row in rows:
            found = _row_problems(row, state["last_seq"] + 1, state["last_hash"])
            state["problem_count"] += len(found)
            state["problems"] = (state["problems"] + found)[:PROBLEMS_KEPT]
            state["last_seq"], state["last_hash"] = row.seq, row.hash
            state["checked"] += 1
        if rows:
            ctx.save_checkpoint(state, done=state["checked"], total=max(total, state["checked"]),
                                message=f"verified events up to #{state['last_seq']}")
        if len(rows) < batch:
            break
    with ctx.session() as s:
        head = s.get(audit.AuditHead, 1)
        head_seq, head_hash = (head.last_seq, head.last_hash) if head else (None, None)
        detailed = None
        at_end = (state["last_seq"], state["last_hash"]) if state["checked"] else (None, None)
        if state["problem_count"] or (head_seq, head_hash) != at_end and (head or state["checked"]):
            # something is wrong: keep the authoritative diagnosis of the whole chain
            detailed = [asdict(p) for p in audit_verify.verify_report(s).problems]
    problems = detailed if detailed is not None else state["problems"]
    ctx.progress(state["checked"], max(total, state["checked"]),
                 "audit chain intact" if not problems else f"audit chain BROKEN: {len(problems)} problem(s)")
    ctx.set_result({"events": state["checked"], "intact": not problems, "head_seq": head_seq,
                    "head_hash": head_hash, "problems": problems[:PROBLEMS_KEPT],
                    "problem_count": len(problems)})


def _validate_files(params: dict) -> dict:
    unknown = set(params) - {"batch"}
    if unknown:
        raise ValidationFailed("Unknown parameter(s) for files.verify: {names}.", field="params",
                               params={"names": ", ".join(sorted(unknown))})
    return _validate_verify(params)


@job_handler("files.verify", roles=(Role.ADMIN,), validate=_validate_files)
def verify_stored_files(ctx: JobContext) -> None:
    """Rehash every stored file on disk (``files.verify``), in id order, checkpointing the last id."""
    batch = int(ctx.params.get("batch", 1000))
    state = ctx.checkpoint or {"last_id": 0, "checked": 0, "problem_count": 0, "problems": []}
    with ctx.session() as s:
        total = s.scalar(select(func.count()).select_from(files.StoredFile)) or 0
    while True:
        with ctx.session() as s:
            rows = list(s.scalars(select(files.StoredFile).where(files.StoredFile.id > state["last_id"])
                                  .order_by(files.StoredFile.id).limit(batch)))
        for row in rows:
            check = files.verify(row)
            if not check.ok:
                state["problem_count"] += 1
                state["problems"] = (state["problems"] + [asdict(check)])[:PROBLEMS_KEPT]
            state["last_id"], state["checked"] = row.id, state["checked"] + 1
        if rows:
            ctx.save_checkpoint(state, done=state["checked"], total=max(total, state["checked"]),
                                message=f"verified files up to id {state['last_id']}")
        if len(rows) < batch:
            break
    ctx.progress(state["checked"], max(total, state["checked"]),
                 "all files intact" if not state["problem_count"]
                 else f"{state['problem_count']} damaged or missing file(s)")
    ctx.set_result({"files": state["checked"], "intact": not state["problem_count"],
                    "problem_count": state["problem_count"], "problems": state["problems"]})
