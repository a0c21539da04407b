"""The Spark engine on a standalone Spark cluster against ``local[*]`` and DuckDB, on the same run-pipeline
analysis table (made-up data).

``python -m bench.signals.spark_cluster --reports 1000000`` writes the one-device bench table with its
first-of-report flags (``bench.signals.one_device``), starts a standalone cluster from the Spark that
PySpark ships (``spark-class ...deploy.master.Master`` and one ``...deploy.worker.Worker`` with
``--cores`` and ``--memory``, on this machine: a real cluster manager, master, worker and executor JVMs
talking over the network, but one host), and times, in one process, best of ``--repeat``:

* ``duckdb``: ``count_pairs(report_flag=...)``, the run pipeline's DuckDB count;
* ``spark_local``: ``count_pairs_spark(report_flag=..., master="local[*]")``;
* ``spark_cluster``: the same with ``master="spark://127.0.0.1:<port>"``;
* ``spark_cluster_plain``: the cluster's plain count (distinct projections), without the flags.

Every count is checked equal to DuckDB's, field by field, before timing. The Spark session is started
once per master outside the timings (JVM start-up, executor registration). Prints JSON; the cluster is
stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.signals.one_device import NAMES, build, write_rows


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spark_class() -> str:
    import pyspark

    return str(Path(pyspark.__file__).parent / "bin" / "spark-class")


def start_cluster(cores: int, memory: str, log: Path) -> tuple[str, list[subprocess.Popen]]:
    port, ui = _free_port(), _free_port()
    env = os.environ | {"SPARK_LOCAL_IP": "127.0.0.1"}
    out = log.open("ab")
    master = subprocess.Popen([_spark_class(), "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                               "--port", str(port), "--webui-port", str(ui)], stdout=out, stderr=out, env=env)
    url = f"spark://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:  # the master listens
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.5)
    worker = subprocess.Popen([_spark_class(), "org.apache.spark.deploy.worker.Worker", url, "--cores",
                               str(cores), "--memory", memory, "--webui-port", str(_free_port())],
                              stdout=out, stderr=out, env=env)
    return url, [worker, master]


def _session(master: str, executor_memory: str):
    """The session ``counting_spark`` would start (it reuses an active one), with the executor's heap."""
    from pyspark.sql import SparkSession

    (SparkSession.builder.master(master).appName("medreg-signals").config("spark.ui.enabled", "false")
     .config("spark.sql.shuffle.partitions", "8").config("spark.executor.memory", executor_memory)
     .getOrCreate())


def _stop_session() -> None:
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        active.stop()


def main() -> None:
    from medreg.signals.counting import count_pairs
    from medreg.signals.counting_spark import count_pairs_spark

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--memory", default="6g", help="the worker's memory (its executor's heap)")
    args = parser.parse_args()
    flag = {"report_flag": "first_of_report"}
    with tempfile.TemporaryDirectory() as tmp:
        source, path = Path(tmp) / "rows.parquet", Path(tmp) / "table.parquet"
        write_rows(args.reports, source)
        rows = build(source, path, flags=True)
        reference = count_pairs(path, **flag, **NAMES)

        def same(got) -> None:
            for name in reference.__dataclass_fields__:
                a, b = np.asarray(getattr(reference, name)), np.asarray(getattr(got, name))
                assert a.shape == b.shape and np.array_equal(a, b), name

        url, procs = start_cluster(args.cores, args.memory, Path(tmp) / "cluster.log")
        best: dict[str, tuple[float, float]] = {}
        load = [os.getloadavg()]
        try:
            plans = {
                "duckdb": (None, lambda: count_pairs(path, **flag, **NAMES)),
                "spark_local": ("local[*]", lambda: count_pairs_spark(path, master="local[*]", **flag,
                                                                      **NAMES)),
                "spark_cluster": (url, lambda: count_pairs_spark(path, master=url, **flag, **NAMES)),
                "spark_cluster_plain": (url, lambda: count_pairs_spark(path, master=url, **NAMES)),
            }
            for name, (master, run) in plans.items():
                if master is not None:
                    _stop_session()
                    _session(master, args.memory)
                same(run())  # also warms the session up
                for _ in range(args.repeat):
                    t0, c0 = time.perf_counter(), time.process_time()
                    run()
                    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
                    old = best.get(name, (float("inf"), float("inf")))
                    best[name] = (min(old[0], cpu), min(old[1], wall))
            _stop_session()
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(timeout=60)
        load.append(os.getloadavg())
    print(json.dumps({"reports": args.reports, "rows": rows, "repeat": args.repeat, "cluster": {
        "master": "standalone, this machine", "worker_cores": args.cores, "worker_memory": args.memory},
        "wall_s": {k: round(v[1], 3) for k, v in best.items()},
        "driver_cpu_s": {k: round(v[0], 3) for k, v in best.items()},
        "load_before_after": load}, indent=1))


if __name__ == "__main__":
    main()
