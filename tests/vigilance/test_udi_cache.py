"""The bulk import's fast UDI path (cached, the DI split off a human-readable UDI and checked once per
DI) gives exactly biip's answer on the whole UDI."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from medreg.core.errors import ValidationFailed
from medreg.vigilance.udi import GS, Udi, _values, parse_udi

UDI_ROWS = list(csv.DictReader((Path(__file__).parent / "data" / "udi_examples.csv").open(encoding="utf-8")))


@pytest.mark.parametrize("row", UDI_ROWS, ids=[r["label"] for r in UDI_ROWS])
def test_split_udi_parse_equals_biip_on_the_whole_udi(row):
    for text in (row["udi_hri"], row["udi_raw_gs_as_<GS>"]):
        whole = _values(text.replace("<GS>", GS))  # biip on the whole string, no cache, no split
        if isinstance(whole, tuple):
            with pytest.raises(ValidationFailed) as err:
                parse_udi(text)
            assert (err.value.message, err.value.params) == (whole[0].format(**whole[1]), whole[1])
        else:
            assert parse_udi(text) == Udi(**whole)


EDGE = ["(01)06901234567892", "(01)06901234567892(10)A(B)C", "(01)06901234567892(10)L1(01)06901234567892",
        "(01)06901234567892(17)270230", "(01)06901234567892(99)X", "(01)0690123456789(10)L1",
        "(01)06901234567892(10)", "(01)06901234567892(21)S1(11)250101(17)300101(10)L-2/3"]


@pytest.mark.parametrize("text", EDGE)
def test_split_udi_parse_equals_biip_on_edge_cases(text):
    whole = _values(text)
    if isinstance(whole, tuple) or "di" not in whole:
        with pytest.raises(ValidationFailed):
            parse_udi(text)
    else:
        assert parse_udi(text) == Udi(**whole)
