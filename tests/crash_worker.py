"""A job worker to be killed: run by ``tests.crashing.crash_while_blocked`` in a subprocess.

``python crash_worker.py MARKER MODULE:ATTR N [IMPORT ...]`` imports the modules IMPORT (those that
register the job kinds), replaces the function ``ATTR`` of ``MODULE`` (``Class.method`` allowed) by one
that, on its N-th call, writes MARKER and waits (its heartbeat keeps the lease alive) until the test
kills it with SIGKILL; then claims one job like ``medreg worker`` and runs it. The database, file store
and lease come from the environment (``MEDREG_*``), as for any worker."""

from __future__ import annotations

import functools
import importlib
import sys
import time
from pathlib import Path

from medreg.core import jobs, worker  # noqa: F401  (jobs first: it imports the worker)

marker, target, block_at = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
for name in sys.argv[4:]:
    importlib.import_module(name)
module_name, _, path = target.partition(":")
owner = importlib.import_module(module_name)
*parents, attr = path.split(".")
for part in parents:
    owner = getattr(owner, part)
original, calls = getattr(owner, attr), []


@functools.wraps(original)
def block_when_reached(*args, **kwargs):
    calls.append(1)
    if len(calls) == block_at:
        marker.write_text("blocked")
        while True:  # the test's SIGKILL ends this process here
            time.sleep(3600)
    return original(*args, **kwargs)


setattr(owner, attr, block_when_reached)
worker.Worker("crash-victim").run_once()
sys.exit(3)  # reached only if the job ended before the block: the test fails on the exit code
