"""Bulk import: medreg's ``vigilance.import`` job vs a plain pandas read-and-insert, same file, one run.

A generated CSV of N made-up reports (no real data: the columns of the report form, 40 devices, a UDI
with a lot per row, two IMDRF codes) is imported twice into fresh SQLite files:

- **peer**: ``pandas.read_csv`` then ``DataFrame.to_sql`` into one table (chunks of 5000, one
  transaction): no validation, no coding, no UDI parsing, no audit, not resumable;
- **medreg**: ``bulk.start_bulk_import`` + ``jobs.run_once``: the whole file validated first (form,
  IMDRF codes, UDI, role, registrant), then cases + versions + code rows + one audit event per report
  (and one per batch), committed with the checkpoint; ``audit.verify`` checks the chain afterwards
  (not timed).

Prints the wall time, the rows per second and the CPU time of each (the CPU time is steadier than the
wall time on a shared machine; the load average is printed too) and the ratios. Run with nice; size
with the first argument:

    nice .venv/bin/python bench/bench_bulk_import.py 200000
    nice .venv/bin/python bench/bench_bulk_import.py 50000 --postgresql   # on the test suite's server

(on PostgreSQL medreg writes with ``COPY``; pandas' ``to_sql`` uses multi-row INSERTs)
"""

from __future__ import annotations

import csv
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

COLUMNS = ["reporter.role", "device.generic_name", "device.registration_number", "device.udi", "device.model",
           "event.event_date", "event.aware_at", "event.outcome", "event.description",
           "codes.device_problem", "patient.age_years", "patient.sex"]
PROBLEMS = ["A0401|A040101", "A0101|A010101", "A0201", "A0205|A020501", "A0301"]


def generate(path: Path, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        for i in range(n):
            dev = rng.randrange(40)
            day = 1 + rng.randrange(28)
            w.writerow(["using_entity", f"Demo device {dev} (made up)", f"国械注准2025{dev:03d}0001",
                        f"(01)06901234567892(10)L{i}", f"M-{dev}", f"2025-03-{day:02d}",
                        f"2025-04-{day:02d}T10:00:00", rng.choice(["serious_injury", "other", "death"]),
                        f"Made-up narrative {i}: the device stopped during use.", rng.choice(PROBLEMS),
                        str(rng.randrange(1, 90)), rng.choice(["female", "male"])])


def peer(path: Path, url: str) -> tuple[float, float]:
    import pandas as pd
    from sqlalchemy import create_engine

    engine = create_engine(url)
    t0, c0 = time.perf_counter(), time.process_time()
    df = pd.read_csv(path, dtype=str)
    with engine.begin() as conn:
        df.to_sql("peer_case", conn, index=False, chunksize=5000)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    engine.dispose()
    return elapsed, cpu


def medreg(path: Path, url: str) -> tuple[float, float, dict]:
    os.environ["MEDREG_DATABASE_URL"] = url
    os.environ["MEDREG_FILE_STORE_DIR"] = str(path.parent / "files")
    os.environ["MEDREG_MAX_UPLOAD_BYTES"] = str(4 * 1024**3)
    from medreg import models  # noqa: F401  (every table)
    from medreg.core import audit_verify, db, jobs
    from medreg.core.accounts import Organisation, OrgKind, Role, User, UserRole
    from medreg.core.actor import Actor
    from medreg.vigilance import bulk

    db.reset_engine()
    db.Base.metadata.create_all(db.get_engine())
    with db.session_scope() as s:
        org = Organisation(kind=OrgKind.HOSPITAL, name="Bench hospital (made up)", country="CN",
                           province="Beijing")
        user = User(username="bench", display_name="Bench", password_hash="x", organisation=org)
        user.role_rows = [UserRole(role=Role.HOSPITAL)]
        s.add(user)
        s.flush()
        s.refresh(user)
        actor = Actor.from_user(user)
    t0, c0 = time.perf_counter(), time.process_time()
    with db.session_scope() as s, path.open("rb") as fh:
        job_id = bulk.start_bulk_import(s, actor, filename="bench.csv", data=fh, batch=5000).id
    jobs.run_once("bench", lease_seconds=600)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    with db.session_scope() as s:
        job = jobs.get(s, Actor.system(), job_id)
        problems = audit_verify.verify(s)  # the per-report audit events keep the hash chain intact
        return elapsed, cpu, dict(job.result or {}, status_job=job.status, error=(job.error or "")[-300:],
                                  audit_problems=len(problems))


@contextmanager
def databases(kind: str, tmp: str) -> Iterator[tuple[str, str]]:
    """Two fresh, empty databases (peer, medreg): SQLite files, or PostgreSQL databases created on the
    server of the test suite (``MEDREG_TEST_PG_SERVER``) and dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp}/peer.db", f"sqlite:///{tmp}/medreg.db"
        return
    import psycopg

    server = os.environ.get("MEDREG_TEST_PG_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432")
    admin = server.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    names = [f"bench_peer_{os.getpid()}", f"bench_medreg_{os.getpid()}"]
    with psycopg.connect(admin, autocommit=True) as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{names[0]}", f"{server}/{names[1]}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    kind = "postgresql" if "--postgresql" in sys.argv else "sqlite"
    n = int(args[0]) if args else 200_000
    with tempfile.TemporaryDirectory() as tmp, databases(kind, tmp) as (peer_url, medreg_url):
        path = Path(tmp) / "reports.csv"
        generate(path, n)
        size = path.stat().st_size
        load = os.getloadavg()[0]
        t_peer, c_peer = peer(path, peer_url)
        t_med, c_med, result = medreg(path, medreg_url)
        load = max(load, os.getloadavg()[0])
    if result.get("created") != n or result.get("audit_problems"):
        raise SystemExit(f"medreg did not import the file: {str(result)[:600]}")
    print(f"rows: {n}  file: {size / 1e6:.1f} MB  ({kind}, {os.cpu_count()} cores, nice, "
          f"load average up to {load:.1f})")
    print("                           wall time      rows/s    CPU time (this process)")
    print(f"pandas read_csv + to_sql : {t_peer:8.1f} s  {n / t_peer:10.0f}   {c_peer:8.1f} s")
    print(f"medreg vigilance.import  : {t_med:8.1f} s  {n / t_med:10.0f}   {c_med:8.1f} s")
    print(f"ratio medreg / pandas    : {t_med / t_peer:8.1f}x the wall time, "
          f"{c_med / c_peer:.1f}x the CPU time")


if __name__ == "__main__":
    main()
