"""One export at a time per snapshot folder (``snapshot.export_lock``): a second export waits and writes
the version after the first; the job checkpoints the version it writes after under the lock; the
clean-up of an abandoned export leaves alone the files of an export that holds the lock.

"Another export" is played by a thread that holds the lock and writes a finished version by copying
the previous one (a real export needs the test's database session, which belongs to the main thread).
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import duckdb
import pytest

from medreg.signals import jobs, snapshot
from tests.signals.test_hierarchies import die_after_export, world  # noqa: F401  (world: fixture)
from tests.signals.test_runs import FakeContext


class OtherExport(threading.Thread):
    """Holds the folder's lock, then writes version ``newest + 1`` as a copy of the newest version."""

    def __init__(self, folder: Path, hold: float = 0.5):
        super().__init__(daemon=True)
        self.folder, self.hold = folder, hold
        self.held, self.released_at = threading.Event(), None

    def run(self):
        with snapshot.export_lock(self.folder):
            self.held.set()
            time.sleep(self.hold)
            base = snapshot.latest(self.folder)
            version = base.version + 1
            target = self.folder / f"v{version:06d}.parquet"
            shutil.copyfile(base.path, target)
            manifest = json.loads((self.folder / f"v{base.version:06d}.json").read_text())
            manifest |= {"version": version, "path": str(target), "base_version": base.version}
            (self.folder / f"v{version:06d}.json").write_text(json.dumps(manifest))
            self.released_at = time.monotonic()

    def __enter__(self):
        self.start()
        assert self.held.wait(10)
        return self

    def __exit__(self, *exc):
        self.join(10)


def test_an_export_waits_for_the_folder_lock_then_writes_the_next_version(world):  # noqa: F811
    db, folder = world["db"], world["folder"]
    first = snapshot.export(db, world["centre"], folder)
    assert first.version == 1
    with OtherExport(folder) as other:
        snap = snapshot.export(db, world["centre"], folder)
        done_at = time.monotonic()
    assert other.released_at is not None and done_at >= other.released_at  # it waited
    assert (snap.version, snap.base_version) == (3, 2)  # not a second writer of version 2
    assert [s.version for s in snapshot.versions(folder)] == [3, 2, 1]
    rows = duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{snap.path}')").fetchone()[0]
    assert rows == snap.rows == first.rows
    assert not list(folder.glob("*.tmp"))


def test_the_job_checkpoints_under_the_lock_the_version_it_writes_after(world, monkeypatch):  # noqa: F811
    db, folder = world["db"], world["folder"]
    snapshot.export(db, world["centre"], folder)
    params = {"folder": str(folder), "incremental": True}
    ctx = FakeContext(db, params)
    die_after_export(monkeypatch)
    with OtherExport(folder), pytest.raises(RuntimeError):
        jobs.snapshot_job(ctx)
    # the other export finished version 2 while the job waited: the job wrote 3, after 2
    assert ctx.checkpoint == {"exporting_after": 2}
    assert snapshot.latest(folder).version == 3
    monkeypatch.undo()
    resumed = FakeContext(db, params, checkpoint=ctx.checkpoint)
    jobs.snapshot_job(resumed)
    assert resumed.result["snapshot_version"] == 3 and snapshot.latest(folder).version == 3


def test_the_clean_up_of_an_abandoned_export_spares_a_live_export(tmp_path):
    folder = tmp_path / "snapshots"
    folder.mkdir()
    unfinished = folder / "v000001.parquet.tmp"
    unfinished.write_bytes(b"half")
    holder_ready, release = threading.Event(), threading.Event()

    def hold():
        with snapshot.export_lock(folder):
            holder_ready.set()
            release.wait(10)

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert holder_ready.wait(10)
    try:
        assert snapshot.remove_unfinished(folder, 1) == []  # a live export owns that version now
        assert unfinished.exists()
    finally:
        release.set()
        holder.join(10)
    assert snapshot.remove_unfinished(folder, 1) == ["v000001.parquet.tmp"]
    assert not unfinished.exists()
    assert snapshot.remove_unfinished(tmp_path / "missing", 1) == []
