"""Study protocols: canonical hash and cohort selection with its flow."""

from __future__ import annotations

import hashlib
import json

import pytest

from medreg.core.errors import ValidationFailed
from medreg.evidence.protocol import Criterion, StudyProtocol, protocol_hash, select_cohort


def _protocol(**over):
    base = dict(title="TAVR valve X vs comparators", question="Is 1-year mortality higher?",
                device_group="tavr", comparator="other TAVR valves", outcomes=("death",),
                analyses=("kaplan_meier", "cox_ph"), follow_up_days=365,
                inclusion=(Criterion("age", ">=", 65),), exclusion=(Criterion("prior_mi", "==", True),))
    base.update(over)
    return StudyProtocol(**base)


def test_hash_is_sha256_of_canonical_json_and_changes_with_any_field():
    p = _protocol()
    canonical = json.dumps(json.loads(p.canonical()), sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False)
    assert protocol_hash(p) == hashlib.sha256(canonical.encode()).hexdigest()
    assert protocol_hash(p) == protocol_hash(_protocol())
    assert protocol_hash(p) != protocol_hash(_protocol(follow_up_days=366))


def test_cohort_selection_and_flow():
    rows = [{"age": 70, "prior_mi": False}, {"age": 60, "prior_mi": False},
            {"age": 80, "prior_mi": True}, {"age": None, "prior_mi": False}]
    kept, flow = select_cohort(rows, _protocol())
    assert kept == [rows[0]]
    assert flow == [("include age >= 65", 2), ("exclude prior_mi == True", 1)]


@pytest.mark.parametrize(("over", "field"), [
    ({"title": " "}, "title"), ({"outcomes": ()}, "outcomes"), ({"analyses": ("magic",)}, "analyses"),
    ({"follow_up_days": 0}, "follow_up_days"),
])
def test_incomplete_protocols_are_refused(over, field):
    with pytest.raises(ValidationFailed) as err:
        _protocol(**over)
    assert err.value.field == field


def test_unknown_operator_is_refused():
    with pytest.raises(ValidationFailed) as err:
        Criterion("age", "~", 3)
    assert err.value.field == "cohort"
