"""Standards registry: look-up by number/title, and which standards apply to a catalogue category."""

from __future__ import annotations

from medreg.catalog import catalogue, standards


def entry(code: str) -> catalogue.CatalogueEntry:
    rows = [e for e in catalogue.shipped_entries() if e.category2_code == code]
    examples = tuple(x for e in rows for x in e.examples)
    return catalogue.CatalogueEntry(**{**rows[0].__dict__, "examples": examples})


def test_registry_is_the_shipped_copy_with_adoptions():
    reg = {s.number: s for s in standards.registry()}
    assert len(reg) == 2141  # SOURCE.md: nmpa_device_standards.csv 2,141 rows
    risk = reg["GB/T 42062-2022"]
    assert (risk.intl_standard, risk.adoption) == ("ISO 14971:2019", "idt")
    # the curated file leaves the doubtful mapping IEC 62304 -> GB/Z 42217-2022 blank (SOURCE.md)
    assert reg["GB/Z 42217-2022"].intl_standard == ""


def test_product_standards_first_then_horizontal_with_conditions():
    saw = standards.for_entry(entry("04-09-01"), active=False)
    assert saw[0]["number"] == "YY/T 1137-2017" and saw[0]["provenance"] == "title_match"
    numbers = {s["number"] for s in saw}
    assert "GB/T 42061-2022" in numbers and "GB 9706.1-2020" not in numbers  # passive: no 9706
    hf = standards.for_entry(entry("01-03-01"), active=True)
    assert hf[0]["number"] == "GB 9706.202-2021"
    general = next(s for s in hf if s["number"] == "GB 9706.1-2020")
    assert general["provenance"] == "horizontal" and general["condition"] == ""
    unknown = next(s for s in standards.for_entry(entry("01-03-01")) if s["number"] == "GB 9706.1-2020")
    assert unknown["condition"] == "active"
    us = standards.for_entry(entry("01-01-01"))
    partial = {s["number"] for s in us if s["provenance"] == "title_partial"}
    assert {"YY/T 1601-2018", "YY/T 1750-2020"} <= partial


def test_search_by_number_and_title():
    assert standards.search("9706.202")[0]["number"] == "GB 9706.202-2021"
    mri = standards.search("磁共振")
    assert mri and all("磁共振" in s["title_zh"] for s in mri)
    assert standards.search("  ") == []


def test_api(client):
    body = client.get("/api/v1/catalog/entries/04-09-01/standards", params={"active": "false"}).json()
    assert body["standards"][0]["number"] == "YY/T 1137-2017"
    assert client.get("/api/v1/standards/search", params={"q": "骨锯"}).json()["results"][0]["number"] == \
        "YY/T 1137-2017"
    assert client.get("/api/v1/catalog/entries/99-99-99/standards").status_code == 404


def _post(client, path: str, body: dict):
    from tests.web.conftest import csrf_of

    return client.post(path, json=body, headers={"X-CSRF-Token": csrf_of(client)})


def _example(name: str) -> dict:
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    return json.loads((root / "docs" / "examples" / "classify" / name).read_text(encoding="utf-8"))


def test_which_standards_apply_to_a_product_from_its_classification(client):
    robot = _post(client, "/api/v1/classification/standards", _example("surgical_robot.json")).json()
    assert robot["category"]["code"] == "01-07-03" and robot["management_class"] == "III"
    assert robot["standards"][0]["provenance"] == "title_match"
    fam = {s["number"]: s for s in robot["standards"] if s["provenance"] == "family"}
    assert fam["YY/T 1712-2021"]["matched"] == "rule set no63-medical-robot in scope"
    assert any(s["number"] == "GB 9706.1-2020" and s["condition"] == "" for s in robot["standards"])
    cade = _post(client, "/api/v1/classification/standards", _example("ai_lung_nodule_cade.json")).json()
    numbers = {s["number"] for s in cade["standards"]}
    assert cade["category"] is None and "YY/T 1858-2022" in numbers  # AI lung-image software (family ai)
    assert "GB 9706.1-2020" not in numbers  # standalone software is not medical electrical equipment
    anchor = _post(client, "/api/v1/classification/standards", _example("peek_suture_anchor.json")).json()
    assert anchor["basis"].endswith("core word 锚钉") and anchor["standards"][0]["number"] == "YY/T 1867-2023"
    mri = _post(client, "/api/v1/classification/standards", _example("mri_system.json")).json()
    assert {s["number"] for s in mri["standards"] if s["provenance"] == "name_match"} == {
        "YY/T 0482-2022", "YY/T 1840-2023"}


def test_product_standards_bad_input_is_422_with_field(client):
    r = _post(client, "/api/v1/classification/standards", {"structure": "wood"})
    assert r.status_code == 422 and r.json()["field"] == "structure"
    r = _post(client, "/api/v1/classification/standards", {})
    assert r.status_code == 422 and r.json()["field"] == "name"
