"""A small world for the sealed-database tests: a curator, two registrants, a synthetic evaluation set.

The cases are synthetic (made up by a seeded generator, see ``synthetic_cases``), not patient data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from medreg.ai import service
from medreg.core.accounts import OrgKind, Role
from medreg.core.actor import Actor
from tests.factories import actor_for, make_org, make_user


@dataclass
class World:
    curator: Actor
    reg_a: Actor
    reg_b: Actor
    outsider: Actor


def build(db: Session) -> World:
    centre = make_org(db, OrgKind.REGULATOR_UNIT)
    a, b = make_org(db, OrgKind.REGISTRANT), make_org(db, OrgKind.REGISTRANT)
    return World(
        curator=actor_for(make_user(db, Role.REVIEWER, org=centre)),
        reg_a=actor_for(make_user(db, Role.REGISTRANT, org=a)),
        reg_b=actor_for(make_user(db, Role.REGISTRANT, org=b)),
        outsider=actor_for(make_user(db, Role.HOSPITAL, org=make_org(db, OrgKind.HOSPITAL))),
    )


def synthetic_cases(n: int = 80, seed: int = 0, labels: np.ndarray | None = None) -> list[dict]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n) if labels is None else labels
    sites = rng.choice(["site-A", "site-B"], n)
    sexes = rng.choice(["F", "M"], n)
    return [{"case_id": f"case-{i:04d}", "label": str(int(y[i])),
             "metadata": {"site": str(sites[i]), "sex": str(sexes[i])}} for i in range(n)]


def scores_for(cases: list[dict], seed: int = 1, noise: float = 0.35) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    return {c["case_id"]: float(np.clip(0.3 * int(c["label"]) + 0.35 + rng.normal(0, noise), 0, 1))
            for c in cases}


def make_database(db: Session, w: World, code: str = "LUNG-CT", cases: list[dict] | None = None):
    d = service.register_database(db, w.curator, {"code": code, "name": "Lung nodule CT (synthetic)",
                                                  "task": "binary", "modality": "CT"})
    v = service.add_version(db, w.curator, d.id, {"provenance": "synthetic, seeded generator (tests)",
                                                  "metadata_fields": ["site", "sex"],
                                                  "cases": cases or synthetic_cases()})
    return d, v


def run_body(scores: dict[str, float], version: str = "1.0", hardware: str = "x86 server") -> dict:
    return {"algorithm_name": "NoduleNet", "algorithm_version": version,
            "platform": {"hardware": hardware, "os": "Linux", "accelerator": "GPU", "framework": "PyTorch"},
            "threshold": 0.5, "outputs": [{"case_id": k, "score": v} for k, v in scores.items()]}
