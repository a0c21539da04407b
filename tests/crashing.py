"""Real crashes of a job worker (shared by the vigilance import and signals snapshot tests): a worker
process (``crash_worker.py``) is stopped inside a chosen function and killed with SIGKILL, so that its
lease (one second with :func:`short_lease`) runs out and the next worker takes the job over.

Polling only, with a generous timeout: nothing here depends on how fast the machine is."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import medreg
from medreg.core.settings import get_settings

TIMEOUT = 300  # seconds: a failure, not a measurement, if it runs out
CRASH_WORKER = Path(__file__).with_name("crash_worker.py")


@pytest.fixture
def short_lease(monkeypatch):
    """A one-second job lease for this process and the workers it starts."""
    monkeypatch.setenv("MEDREG_JOB_LEASE_SECONDS", "1")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("MEDREG_JOB_LEASE_SECONDS")
    get_settings.cache_clear()


def until(condition: Callable, what: str):
    """Poll ``condition`` until it is truthy (its value), or fail after TIMEOUT seconds."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def crash_while_blocked(tmp_path: Path, target: str, block_at: int, *, imports: tuple[str, ...] = (),
                        while_blocked: Callable[[], None] | None = None) -> None:
    """Run one job in a worker process (id ``crash-victim``) that stops at the ``block_at``-th call of
    ``target`` (``module:function`` or ``module:Class.method``); call ``while_blocked()`` then (the
    worker still holds the job), and SIGKILL the worker."""
    marker = tmp_path / f"blocked-{time.monotonic_ns()}"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(Path(medreg.__file__).parents[1]), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, str(CRASH_WORKER), str(marker), target, str(block_at), *imports],
                            env=env)
    try:
        until(lambda: marker.exists() or proc.poll() is not None, f"the worker to reach {target}")
        assert proc.poll() is None, f"the worker ended with {proc.returncode} before reaching {target}"
        if while_blocked is not None:
            while_blocked()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
