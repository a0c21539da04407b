"""Demo data of the AI domain (SYNTHETIC, made up by the seeded generator below; no patient data).

One sealed evaluation database "DEMO-LUNG-CT" (lung-nodule malignancy on CT, binary), version 1 with 400
cases from three made-up sites and two made-up scanner vendors, and three runs of the made-up registrant
"Example Imaging": algorithm 1.0 and 1.1 (1.1 = more training data) on an x86 GPU server, and 1.1 again
on an ARM edge box (the same software on a second platform).

Generator (``numpy.random.default_rng(20261130)``): label ~ Bernoulli(0.3); site uniform over three,
vendor A/B 60/40, sex F/M, age band; a case's latent evidence z = label * 1.6 + N(0, 1), lowered by 0.5
for vendor B (a subgroup that is worse on purpose). Algorithm 1.0 scores sigmoid(z - 0.8 + N(0, 0.6));
1.1 scores sigmoid(1.25 z - 1.0 + N(0, 0.45)); the ARM box adds N(0, 0.002) to 1.1's score.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.ai import service, service_runs
from medreg.ai.models import EvalDatabase
from medreg.core.actor import Actor

CODE = "DEMO-LUNG-CT"
SEED = 20261130
N = 400


def synthetic_set(seed: int = SEED, n: int = N):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)
    site = rng.choice(["site-1", "site-2", "site-3"], n)
    vendor = np.where(rng.random(n) < 0.6, "vendor-A", "vendor-B")
    sex = rng.choice(["F", "M"], n)
    age = rng.choice(["<50", "50-64", ">=65"], n)
    z = y * 1.6 + rng.normal(0, 1, n) - 0.5 * (vendor == "vendor-B")
    v10 = 1 / (1 + np.exp(-(z - 0.8 + rng.normal(0, 0.6, n))))
    v11 = 1 / (1 + np.exp(-(1.25 * z - 1.0 + rng.normal(0, 0.45, n))))
    arm = np.clip(v11 + rng.normal(0, 0.002, n), 0, 1)
    ids = [f"CT-{i:05d}" for i in range(n)]
    cases = [{"case_id": ids[i], "label": str(int(y[i])),
              "metadata": {"site": str(site[i]), "vendor": str(vendor[i]), "sex": str(sex[i]),
                           "age_band": str(age[i])}} for i in range(n)]
    return cases, {"1.0": dict(zip(ids, v10.round(4).tolist(), strict=True)),
                   "1.1": dict(zip(ids, v11.round(4).tolist(), strict=True)),
                   "1.1-arm": dict(zip(ids, arm.round(4).tolist(), strict=True))}


def load_ai(session: Session, curator: Actor, registrant: Actor) -> None:
    """The demo database and runs (skipped when already loaded)."""
    if session.scalar(select(EvalDatabase.id).where(EvalDatabase.code == CODE)) is not None:
        return
    cases, scores = synthetic_set()
    db = service.register_database(session, curator, {
        "code": CODE, "name": "肺结节CT良恶性测评集（合成演示数据） / Lung nodule CT (synthetic demo)",
        "task": "binary", "modality": "CT",
        "description": "SYNTHETIC demo data made by medreg.demo.ai (seeded generator); not patient data."})
    version = service.add_version(session, curator, db.id, {
        "provenance": "Synthetic: medreg.demo.ai.synthetic_set(seed=20261130), 400 cases, made up.",
        "metadata_fields": ["site", "vendor", "sex", "age_band"], "cases": cases})
    platforms = {"x86": {"hardware": "x86-64 server (demo)", "os": "Ubuntu 22.04",
                         "accelerator": "NVIDIA GPU", "framework": "PyTorch 2.3"},
                 "arm": {"hardware": "ARM edge box (demo)", "os": "Debian 12", "accelerator": "NPU",
                         "framework": "ONNX Runtime 1.18"}}
    runs = (("1.0", "1.0", "x86"), ("1.1", "1.1", "x86"), ("1.1", "1.1-arm", "arm"))
    for version_name, key, platform in runs:
        service_runs.submit_run(session, registrant, version.id, {
            "algorithm_name": "示例肺结节AI / Example NoduleAI", "algorithm_version": version_name,
            "platform": platforms[platform], "threshold": 0.5,
            "outputs": [{"case_id": k, "score": v} for k, v in scores[key].items()]})
