"""The synthetic AI demo: loads once (idempotent), two versions and two platforms that tell the story the
docs describe (1.1 better than 1.0, the ARM box equivalent to x86, a weaker vendor flagged)."""

from __future__ import annotations

from sqlalchemy import select

from medreg.ai import service_runs
from medreg.ai.models import EvalRun
from medreg.demo.ai import load_ai
from tests.ai.world import build


def test_demo_database_runs_and_their_story(db):
    w = build(db)
    load_ai(db, w.curator, w.reg_a)
    load_ai(db, w.curator, w.reg_a)  # idempotent
    runs = list(db.scalars(select(EvalRun).order_by(EvalRun.id)))
    assert [r.algorithm_version for r in runs] == ["1.0", "1.1", "1.1"]

    def auc(r):
        return next(m["estimate"] for m in r.metrics["metrics"] if m["metric"] == "auc")

    assert auc(runs[1]) > auc(runs[0])
    flagged = {(s["field"], s["value"]) for s in runs[0].metrics["subgroups"] if s["flagged"]}
    assert ("vendor", "vendor-B") in flagged
    eq = service_runs.equivalence_runs(db, w.reg_a, runs[1].id, runs[2].id, score_margin=0.01)
    assert eq["verdict"] == "equivalent"
    cmp = service_runs.compare_runs(db, w.reg_a, runs[0].id, runs[1].id)
    decision = service_runs.triage_change(["training_data_added"], cmp["evidence"])
    assert decision["outcome"] in {"simplified_change", "qms_control"}
    plat = service_runs.triage_change(["platform_incompatible"], {"platform_equivalent": True})
    assert plat["outcome"] == "simplified_change"
