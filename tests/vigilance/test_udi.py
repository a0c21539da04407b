"""GS1 UDIs parsed with biip into DI and PI, checked against the constructed examples of
/work/shared/data/udi (copied to tests/vigilance/data with their SOURCE.md; expected columns are biip
5.2.0's own output recorded when the file was made)."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from medreg.core.errors import ValidationFailed
from medreg.vigilance.udi import parse_udi

ROWS = list(csv.DictReader((Path(__file__).parent / "data" / "udi_examples.csv").open(encoding="utf-8")))
GOOD = [r for r in ROWS if r["gtin"]]


@pytest.mark.parametrize("row", GOOD, ids=[r["label"] for r in GOOD])
@pytest.mark.parametrize("form", ["udi_hri", "udi_raw_gs_as_<GS>"])
def test_examples(row, form):
    udi = parse_udi(row[form])
    assert udi.di == row["gtin"]
    assert udi.lot == (row["lot_10"] or None)
    assert udi.serial == (row["serial_21"] or None)
    assert udi.production_date == (date.fromisoformat(row["production_date_11"]) if row["production_date_11"]
                                   else None)
    assert udi.expiry_date == (date.fromisoformat(row["expiry_date_17"]) if row["expiry_date_17"] else None)


def test_wrong_check_digit_is_refused():
    bad = next(r for r in ROWS if r["label"] == "invalid_check_digit")
    with pytest.raises(ValidationFailed) as e:
        parse_udi(bad["udi_hri"], field="device.udi")
    assert e.value.field == "device.udi" and "check digit" in e.value.message


@pytest.mark.parametrize("text", ["", "hello", "(10)LOT1"])
def test_not_a_udi(text):
    with pytest.raises(ValidationFailed):
        parse_udi(text)


def test_day_00_is_the_month_end():
    assert parse_udi("(01)06901234567892(17)271200").expiry_date == date(2027, 12, 31)
