"""UDI parsing against the constructed GS1 examples (src/medreg/data/udi/examples.csv, see SOURCE.md)."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

import medreg
from medreg.core.errors import ValidationFailed
from medreg.surveillance.udi import parse_udi

EXAMPLES = Path(medreg.__file__).parent / "data" / "udi" / "examples.csv"
ROWS = list(csv.DictReader(EXAMPLES.open(encoding="utf-8")))
VALID = [r for r in ROWS if r["gtin"]]


@pytest.mark.parametrize("row", VALID, ids=[r["label"] for r in VALID])
def test_hri_and_raw_forms_give_the_expected_di_and_pi(row):
    for text in (row["udi_hri"], row["udi_raw_gs_as_<GS>"].replace("<GS>", "\x1d")):
        u = parse_udi(text)
        assert u.di == row["gtin"]
        assert (u.lot or "") == row["lot_10"] and (u.serial or "") == row["serial_21"]
        assert (u.expiry.isoformat() if u.expiry else "") == row["expiry_date_17"]
        assert (u.production.isoformat() if u.production else "") == row["production_date_11"]


def test_wrong_check_digit_and_garbage_are_refused():
    bad = next(r for r in ROWS if r["label"] == "invalid_check_digit")
    for text in (bad["udi_hri"], "hello", ""):
        with pytest.raises(ValidationFailed) as err:
            parse_udi(text, field="row 3 udi")
        assert err.value.field == "row 3 udi"
    assert parse_udi("(01)06901234567892(17)271231").expiry == date(2027, 12, 31)
