"""The reasons of comparison verdicts and the metric names are translated where they are shown: the
pure modules say a msgid and its params (medreg.core.said), the zh-CN page shows the Chinese text of
ai.po, the API keeps its English ``reason`` / ``reasons`` and adds the msgid and params."""

from __future__ import annotations

from medreg.ai import service_runs
from medreg.ai.metric_names import metric_name
from medreg.core.said import english
from tests.ai.test_pages import setup  # noqa: F401 (fixture)
from tests.ai.world import run_body, scores_for
from tests.web.innovation_helpers import browser


def test_metric_names_of_detection_and_agreement():
    assert english(metric_name("lesion_sensitivity@0.5fp")) == "Lesion sensitivity at 0.5 FP/image"
    assert english(metric_name("auc_difference")) == "AUC difference"
    assert english(metric_name("sensitivity[AF]")) == "Sensitivity of class AF"
    assert english(metric_name("lesion_detection_kappa")) == "Lesion detection kappa"
    assert english(metric_name("something_new")) == "something_new"  # an unknown identifier as is


def test_compare_pages_in_chinese(app, db, setup):  # noqa: F811
    w, cases, v = setup
    s1 = scores_for(cases, seed=1)
    r1 = service_runs.submit_run(db, w.reg_a, v.id, run_body(s1))
    r2 = service_runs.submit_run(db, w.reg_a, v.id, run_body({k: min(1.0, x + 0.001) for k, x in s1.items()},
                                                             hardware="ARM"))
    r3 = service_runs.submit_run(db, w.reg_a, v.id, run_body(scores_for(cases, seed=5, noise=0.1), "2.0"))
    db.commit()
    reg, _ = browser(app, w.reg_a)
    versions = reg.get(f"/ai/compare?run_a={r1.id}&run_b={r3.id}&margin=0.05&lang=zh_CN").text
    assert "下限 " in versions or "上限 " in versions or "区间 [" in versions  # the verdicts' reasons
    assert "lower bound" not in versions and " -margin " not in versions
    platforms = reg.get(f"/ai/compare?mode=platforms&run_a={r1.id}&run_b={r2.id}&lang=zh_CN").text
    assert "TOST：" in platforms and "灵敏度：差值" in platforms  # the equivalence reasons
    assert "完全一致率" in platforms and "一致性界限下限" in platforms  # agreement metric names
    for english_text in ("TOST: ", ": difference ", ">exact_agreement<", ">lower_limit_of_agreement<"):
        assert english_text not in platforms
    en = reg.get(f"/ai/compare?mode=platforms&run_a={r1.id}&run_b={r2.id}&lang=en").text
    assert "TOST: " in en and "Sensitivity: difference " in en and "Exact agreement" in en
