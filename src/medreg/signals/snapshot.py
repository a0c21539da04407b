"""Versioned Parquet snapshots of the report base, exported from the relational store (I/O).

A snapshot folder holds ``v000001.parquet``, ``v000002.parquet``... each with a manifest
``v00000N.json`` (version, report count, row count, export time, the version it was built on, how
many reports changed and the column layout ``schema``). Rows, one per (report, IMDRF code), read through
``medreg.vigilance.queries_signals``: ``report_id, device`` (the registration certificate number, NULL
when the report names none)``, registrant_org_id, annex, code, year`` and, from schema 2 on, the other
device keys ``category`` (sub-catalogue ××5) and ``fda_product_code`` and the strata inputs ``sex,
age_years, reporter_role``; from schema 3 on, ``category1`` and ``category2``: the 一级 / 二级 product
category of the 医疗器械分类目录 recorded on the certificate the report names (read through
``medreg.premarket.registration.queries.certificate_categories``; NULL when the report names no
certificate known here or the certificate records no category, and ``category2`` also when only the
一级 category is recorded).

The catalogue categories are joined on at every export, to every row (the base version's rows too): they
are properties of the certificate, not of the report, and a change registration may change them without
touching any report, so an incremental export that only re-read the changed reports would keep stale
categories.

Incremental: when a previous snapshot exists, only the reports changed since its export time are read
from the database; the new version is the old rows minus every changed report plus the changed
reports' current rows (so a report that became a duplicate or lost a code leaves the counts). The
export time is taken before the query, so a change made during the export is read again next time. A
previous snapshot of an older schema is not built on: the export is then a full one.

One export at a time: :func:`export` holds an exclusive lock on the folder (``flock`` on
``.export.lock``, released by the kernel when the process dies, so a killed worker leaves no stale
lock) from choosing its version until its manifest is written; a second export into the same folder
(a job and a ``medreg signals snapshot`` by hand, two jobs) waits and then writes the next version.
The clean-up of an abandoned export (:func:`remove_unfinished`) does nothing while another export
holds the lock: that export owns the unfinished version's files and will finish them. The folder must
be on a file system whose ``flock`` is seen by every worker writing to it (a local disk, or NFSv4).
"""

from __future__ import annotations

import fcntl
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
from sqlalchemy.orm import Session

from medreg.core.actor import Actor
from medreg.core.clock import utcnow
from medreg.premarket.registration.queries import certificate_categories
from medreg.vigilance.queries_signals import report_rows

_NAME = re.compile(r"^v(\d{6})\.json$")
SCHEMA = 3


@dataclass(frozen=True)
class Snapshot:
    version: int
    path: str
    reports: int
    rows: int
    exported_at: str  # ISO 8601, UTC
    base_version: int | None
    changed_reports: int | None
    schema: int = 1


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _numbers(folder: Path) -> list[int]:
    return sorted(int(m.group(1)) for p in folder.glob("v*.json") if (m := _NAME.match(p.name)))


def latest(folder: Path) -> Snapshot | None:
    versions = _numbers(folder)
    return load(folder, versions[-1]) if versions else None


def versions(folder: Path) -> list[Snapshot]:
    """Every finished snapshot of ``folder`` (those with a manifest), newest first."""
    return [load(folder, v) for v in reversed(_numbers(folder))]


def exists(folder: Path, version: int) -> bool:
    """Whether ``folder`` holds the finished snapshot ``version``."""
    return (folder / f"v{version:06d}.json").is_file()


def load(folder: Path, version: int) -> Snapshot:
    return Snapshot(**json.loads((folder / f"v{version:06d}.json").read_text(encoding="utf-8")))


LOCK_NAME = ".export.lock"


@contextmanager
def export_lock(folder: Path, *, wait: bool = True) -> Iterator[bool]:
    """The folder's export lock (see the module): yields True once held; with ``wait=False`` yields
    False at once when another process or thread holds it."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOCK_NAME, "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def export(session: Session, actor: Actor, folder: Path, *, incremental: bool = True,
           started: Callable[[int], None] | None = None) -> Snapshot:
    """Write the next snapshot version into ``folder`` and return its manifest (under the folder's
    export lock: a concurrent export waits, then writes the version after this one). ``started`` is
    called under the lock, before anything is written, with the newest finished version (0: none), so
    that a job can record which version it is about to write."""
    with export_lock(folder):
        if started is not None:
            newest = latest(folder)
            started(newest.version if newest else 0)
        return _export(session, actor, folder, incremental=incremental)


def _export(session: Session, actor: Actor, folder: Path, *, incremental: bool) -> Snapshot:
    base = latest(folder) if incremental else None
    if base is not None and base.schema != SCHEMA:
        base = None  # an older layout: rebuild from the store
    now = utcnow()
    since = datetime.fromisoformat(base.exported_at) if base else None
    rows = report_rows(session, actor, changed_since=since)
    version = (latest(folder).version + 1) if latest(folder) else 1
    target = folder / f"v{version:06d}.parquet"
    tmp = target.with_suffix(".parquet.tmp")
    def ints(values):
        return np.asarray([-1 if v is None else v for v in values], dtype=np.int64)

    def texts(values):
        return np.asarray(["" if v is None else v for v in values], dtype=object)

    table = {
        "report_id": np.asarray(rows.report_id, dtype=np.int64),
        "device": texts(rows.registration_number),
        "registrant_org_id": ints(rows.registrant_org_id),
        "annex": texts(rows.annex),
        "code": texts(rows.code),
        "year": ints(rows.year),
        "category": texts(rows.category),
        "fda_product_code": texts(rows.fda_product_code),
        "sex": texts(rows.sex),
        "age_years": np.asarray([np.nan if v is None else v for v in rows.age_years], dtype=np.float64),
        "reporter_role": texts(rows.reporter_role),
    }
    con = duckdb.connect()
    try:
        con.register("fresh_raw", table)
        con.execute("CREATE TEMP VIEW fresh AS SELECT report_id, NULLIF(device::VARCHAR, '') AS device, "
                    "NULLIF(registrant_org_id, -1) AS registrant_org_id, annex::VARCHAR AS annex, "
                    "code::VARCHAR AS code, NULLIF(year, -1)::BIGINT AS year, "
                    "NULLIF(category::VARCHAR, '') AS category, "
                    "NULLIF(fda_product_code::VARCHAR, '') AS fda_product_code, "
                    "NULLIF(sex::VARCHAR, '') AS sex, "
                    "CASE WHEN isnan(age_years) THEN NULL ELSE age_years END AS age_years, "
                    "NULLIF(reporter_role::VARCHAR, '') AS reporter_role FROM fresh_raw")
        cats = certificate_categories(session)
        con.register("cats", {"number": np.asarray(list(cats), dtype=object),
                              "c1": np.asarray([c[0] for c in cats.values()], dtype=object),
                              "c2": np.asarray(["" if c[1] is None else c[1] for c in cats.values()],
                                               dtype=object)})
        if base is not None:
            con.register("changed", {"report_id": np.asarray(rows.changed_ids or [-1], dtype=np.int64)})
            rows_query = ("SELECT * EXCLUDE (category1, category2) "
                          f"FROM read_parquet({_literal(Path(base.path))}) WHERE report_id NOT IN "
                          "(SELECT report_id FROM changed) UNION ALL SELECT * FROM fresh")
        else:
            rows_query = "SELECT * FROM fresh"
        query = ("SELECT r.*, NULLIF(k.c1::VARCHAR, '') AS category1, NULLIF(k.c2::VARCHAR, '') AS category2 "
                 f"FROM ({rows_query}) r LEFT JOIN cats k ON k.number::VARCHAR = r.device")
        con.execute(f"COPY ({query} ORDER BY report_id, annex, code) TO {_literal(tmp)} (FORMAT PARQUET)")
        n_rows, n_reports = con.execute(
            f"SELECT count(*), count(DISTINCT report_id) FROM read_parquet({_literal(tmp)})").fetchone()
    finally:
        con.close()
    tmp.replace(target)
    snap = Snapshot(version=version, path=str(target), reports=int(n_reports), rows=int(n_rows),
                    exported_at=now.isoformat(), base_version=base.version if base else None,
                    changed_reports=len(rows.changed_ids) if rows.changed_ids is not None else None,
                    schema=SCHEMA)
    _write_manifest(folder, snap)
    return snap


def _write_manifest(folder: Path, snap: Snapshot) -> None:
    """The manifest, written last: a version without one is an export that did not finish (invisible to
    :func:`latest` and :func:`load`; the next export of that version overwrites its data file)."""
    target = folder / f"v{snap.version:06d}.json"
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(asdict(snap), indent=2) + "\n", encoding="utf-8")
    tmp.replace(target)


def remove_unfinished(folder: Path, version: int) -> list[str]:
    """Remove the files of an export of ``version`` that did not finish (no manifest): its data file and
    temporary files. A finished version is left alone, and so is everything while another export holds
    the folder's lock (it is writing that version, or will overwrite it). Idempotent; the names removed."""
    if not folder.is_dir() or (folder / f"v{version:06d}.json").exists():
        return []
    with export_lock(folder, wait=False) as held:
        if not held or (folder / f"v{version:06d}.json").exists():
            return []
        removed = []
        for name in (f"v{version:06d}.parquet", f"v{version:06d}.parquet.tmp", f"v{version:06d}.json.tmp"):
            path = folder / name
            if path.exists():
                path.unlink()
                removed.append(name)
        return removed
