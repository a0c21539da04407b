"""Several real workers in threads, each claiming jobs until the queue is empty (race tests)."""

from __future__ import annotations

import threading

from medreg.core import worker


def run_workers(count: int = 3, *, timeout: float = 120, **run_once_kw) -> list[BaseException]:
    """Run ``count`` workers named w0, w1, ... concurrently; the errors they raised (none expected)."""
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            while worker.run_once(name, **run_once_kw) is not None:
                pass
        except BaseException as exc:  # returned to the test
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    return errors
