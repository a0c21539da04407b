"""A job worker to be killed: run by tests/vigilance/test_bulk_crash.py in a subprocess.

``python crash_worker.py MARKER N`` claims one job like ``medreg worker`` and runs it; when the
vigilance import is about to write its N-th batch it writes MARKER and waits (its heartbeat keeps the
lease alive) until the test kills it with SIGKILL. The database, file store and lease come from the
environment (``MEDREG_*``), as for any worker."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from medreg.core import jobs, worker  # noqa: F401  (jobs first: it imports the worker)
from medreg.vigilance import bulk

marker, block_at = Path(sys.argv[1]), int(sys.argv[2])
original, batches = bulk._Filer.file, []


def file_until_killed(self, session, batch):
    batches.append(len(batch))
    if len(batches) == block_at:
        marker.write_text("blocked")
        while True:  # the test's SIGKILL ends this process here
            time.sleep(3600)
    return original(self, session, batch)


bulk._Filer.file = file_until_killed
worker.Worker("crash-victim").run_once()
sys.exit(3)  # reached only if the job ended before the block: the test fails on the exit code
