"""Typed cohort criteria: a date criterion round-trips through the protocol's JSON and compares as a
date; the canonical form (and so the SHA-256) of a protocol without date criteria is the one used
before typed criteria existed."""

from __future__ import annotations

import json
from datetime import date

import pytest

from medreg.core.errors import ValidationFailed
from medreg.evidence.protocol import Criterion, StudyProtocol, protocol_hash, select_cohort
from medreg.surveillance.service_studies import _protocol as from_content
from tests.surveillance.factories import small_protocol, stent_d_protocol

# computed with the canonical form of medreg before typed criteria (json.dumps(asdict(protocol),
# sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)), commit 5034edc
LEGACY_SHA256 = "f1fdde91b28979915b49321d170f0adb0333efac569d46ab6e4f6770f05c747f"


def _legacy() -> StudyProtocol:
    return stent_d_protocol(
        exclusion=(
            Criterion("renal_failure", "==", True),
            Criterion("ejection_fraction", "<", 30.0),
            Criterion("sex", "==", "F"),
        ),
        covariates=("age", "diabetes"),
    )


def test_a_protocol_registered_before_typed_criteria_keeps_its_hash():
    p = _legacy()
    assert protocol_hash(p) == LEGACY_SHA256
    stored = json.loads(p.canonical())  # what the service stores as the registered content
    assert "type" not in json.dumps(stored["inclusion"] + stored["exclusion"])
    assert protocol_hash(from_content(stored)) == LEGACY_SHA256  # read back from JSON, hashed again


def test_a_date_criterion_is_stored_with_its_type_and_read_back_as_a_date():
    p = small_protocol(
        inclusion=(
            Criterion("procedure_date", ">=", date(2025, 1, 1), "date"),
            Criterion("days_followed", ">=", 90),
        )
    )
    stored = json.loads(p.canonical())
    assert stored["inclusion"] == [
        {"field": "procedure_date", "op": ">=", "value": "2025-01-01", "type": "date"},
        {"field": "days_followed", "op": ">=", "value": 90},
    ]
    back = from_content(stored)
    assert back.inclusion[0].value == date(2025, 1, 1) and back == p
    assert protocol_hash(back) == protocol_hash(p)
    rows = [
        {"procedure_date": date(2024, 12, 31), "days_followed": 200},
        {"procedure_date": date(2025, 1, 1), "days_followed": 90},
        {"procedure_date": date(2025, 3, 1), "days_followed": 89},
    ]
    kept, flow = select_cohort(rows, back)
    assert kept == [rows[1]]
    assert flow == [("include procedure_date >= 2025-01-01", 1), ("include days_followed >= 90", 1)]


def test_an_untyped_date_text_never_matched_a_date_row():
    """Why the type is needed: the text a date comes back as from JSON compares with no date."""
    untyped = Criterion("procedure_date", ">=", "2025-01-01")
    assert not untyped.holds({"procedure_date": date(2025, 6, 1)})
    assert Criterion("procedure_date", ">=", "2025-01-01", "date").holds({"procedure_date": date(2025, 6, 1)})


@pytest.mark.parametrize(
    ("value", "type_", "op"),
    [
        ("2025-13-01", "date", ">="),
        ("01/02/2025", "date", ">="),
        (20250101, "date", ">="),
        ("2025-01-01", "datetime", ">="),
        ("2025-01-01", "date", "in"),
    ],
)
def test_bad_typed_criteria_are_refused(value, type_, op):
    with pytest.raises(ValidationFailed):
        Criterion("procedure_date", op, value, type_)
