"""Pure rules of the export sales certificate (NMPA Announcement 2025 No.126): the number (Art.6 and
the province letter codes of annex 4), the verification code, validity (Art.7) and status."""

from __future__ import annotations

from datetime import date

import pytest

from medreg.core.errors import ValidationFailed
from medreg.premarket.registration import export_rules as r
from medreg.premarket.registration.numbers import PROVINCE_ABBREVIATIONS


def test_number_in_both_languages_after_art6():
    n = r.export_number("京", 2026, 1)
    assert (n.zh, n.en) == ("京药监械出2026000001号", "No.MDBJ2026000001")
    assert r.export_number("粤", 2027, 123456).en == "No.MDGD2027123456"
    # annex 4 item 7: 河北 HE, 河南 HA, 湖北 HB, 湖南 HN, 海南 HI, 陕西 SN, 山西 SX
    codes = [r.PROVINCE_LETTER_CODES[a] for a in "冀豫鄂湘琼陕晋"]
    assert codes == ["HE", "HA", "HB", "HN", "HI", "SN", "SX"]
    # every province abbreviation the registration numbers know has a letter code, and no code twice
    assert set(PROVINCE_ABBREVIATIONS.values()) <= set(r.PROVINCE_LETTER_CODES)
    assert len(set(r.PROVINCE_LETTER_CODES.values())) == len(r.PROVINCE_LETTER_CODES)
    with pytest.raises(ValidationFailed):
        r.export_number("X", 2026, 1)
    with pytest.raises(ValidationFailed):
        r.export_number("京", 2026, 1_000_000)


@pytest.mark.parametrize("typed", ["京药监械出2026000001号", "京药监械出2026000001",
                                   " 京药监械出 2026000001号 ", "No.MDBJ2026000001", "no.mdbj2026000001",
                                   "MDBJ2026000001", "No. MD BJ 2026 000001"])
def test_number_is_read_in_either_form(typed):
    assert r.parse_export_number(typed) == r.ExportNumber("BJ", 2026, 1)


@pytest.mark.parametrize("typed", ["", "国械注准20253120001", "No.MDZZ2026000001", "X药监械出2026000001号",
                                   "No.MDBJ2026000000", "No.MDBJ20260000011", None, 5, "1" * 100])
def test_other_text_is_no_export_number(typed):
    assert r.parse_export_number(typed) is None


def test_verification_code_has_60_bits_in_crockford_base32():
    assert r.CODE_BITS == 60 and len(r.CODE_ALPHABET) == 32
    assert r.verification_code(bytes(8)) == "0000-0000-0000"
    assert r.verification_code(b"\xff" * 8) == "ZZZZ-ZZZZ-ZZZZ"
    # 60 bits: the first 60 of the 64 random bits; 0x0123456789ABCDEF >> 4 = 0x0123456789ABCDE
    value = 0x0123456789ABCDE
    expected = "".join(r.CODE_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(12)))
    assert r.verification_code(bytes.fromhex("0123456789abcdef")).replace("-", "") == expected
    with pytest.raises(ValueError):
        r.verification_code(b"short")


def test_typed_codes_are_normalised_and_junk_refused():
    assert r.normalise_code("7k3m 9qxd t2va") == "7K3M-9QXD-T2VA"
    assert r.normalise_code("OOOO-IIII-LLLL") == "0000-1111-1111"  # Crockford: O is 0, I and L are 1
    for junk in ("", "7K3M-9QXD-T2V", "7K3M-9QXD-T2VAX", "UUUU-UUUU-UUUU", None, "x" * 100):
        assert r.normalise_code(junk) is None


def test_validity_and_status():
    issued = date(2026, 6, 1)
    assert r.latest_valid_until([date(2030, 3, 1), date(2029, 1, 5)], issued) == date(2029, 1, 5)
    with pytest.raises(ValidationFailed):
        r.latest_valid_until([date(2026, 5, 31)], issued)
    with pytest.raises(ValidationFailed):
        r.latest_valid_until([], issued)
    until = date(2027, 1, 1)
    kw = dict(valid_until=until, revoked=False, underlying_cancelled=False)
    assert r.status_on(until, **kw) == r.ExportStatus.VALID  # the last day is still valid
    assert r.status_on(date(2027, 1, 2), **kw) == r.ExportStatus.EXPIRED
    assert r.status_on(until, **{**kw, "underlying_cancelled": True}) == r.ExportStatus.LAPSED
    assert r.status_on(date(2028, 1, 1), **{**kw, "revoked": True, "underlying_cancelled": True}) == \
        r.ExportStatus.REVOKED
