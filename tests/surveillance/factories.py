"""Test data of the real-world evidence studies: the study protocols the tests register."""

from __future__ import annotations

from medreg.evidence.protocol import Criterion, StudyProtocol
from medreg.surveillance.demo import PLANTED_DI

ALL_ANALYSES = ("kaplan_meier", "logrank", "cox_ph", "cumulative_incidence")


def stent_d_protocol(title: str = "Stent D vs other stents: target-lesion failure at 180 days",
                     **changes) -> StudyProtocol:
    """The planted device of the demo registry (stent D) against the other stents: target-lesion
    failure at 180 days, adults, every survival analysis. ``changes`` replace any other field."""
    fields = dict(
        title=title,
        question="Is target-lesion failure more frequent with stent D?",
        device_group="coronary_stent",
        comparator="other stents of the registry",
        outcomes=("target_lesion_failure",),
        analyses=ALL_ANALYSES,
        follow_up_days=180,
        inclusion=(Criterion("age", ">=", 18),),
        device_dis=(PLANTED_DI,),
    )
    return StudyProtocol(**{**fields, **changes})


def small_protocol(**changes) -> StudyProtocol:
    """A minimal valid protocol (one outcome, one analysis), for tests that do not run it."""
    fields = dict(title="t", question="q", device_group="tavr_valve", comparator="c", outcomes=("death",),
                  analyses=("logrank",), follow_up_days=30)
    return StudyProtocol(**{**fields, **changes})
