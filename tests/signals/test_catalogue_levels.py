"""``signals run`` at the catalogue product-category levels ``category1`` (一级) and ``category2`` (二级):
reports roll up along the category recorded on the certificate they name; reports whose certificate
records none (or no 二级, at ``category2``) are left out, as every level leaves out the reports without
its key. Both engines give the same result.

Certificates are issued through the registration service with real codes of the shipped catalogue
(01-07 手术导航、控制系统: 01-07-03 手术控制系统, 01-07-01 手术导航系统, 01-07-02 手术定位系统; 01-01
超声手术设备及附件: 01-01-01 超声手术设备; 04-01 骨科用刀). Reports are made up (event level 2, annex A):

    certificate  一级 / 二级           A0401  A0701  A0502
    X1           01-07 / 01-07-03        3      1      -
    X2           01-07 / 01-07-01        3      -      1
    X3           01-01 / 01-01-01        1      3      -
    X4           04-01 / (none)          -      2      2
    X5           (none, sub-catalogue 12) 3     -      -
    no certificate (FDA code FOZ)        2      -      -
"""

from __future__ import annotations

import os
from collections import Counter

import duckdb
import numpy as np
import pytest
from scipy.stats import norm
from sqlalchemy import select

from medreg.core.accounts import OrgKind, Role
from medreg.core.audit import AuditEvent
from medreg.core.errors import ValidationFailed
from medreg.signals import analyses, queries, snapshot
from medreg.signals.runs import run_all, score_step
from tests.factories import make_actor, make_org
from tests.premarket.test_registration_world import build, initial, to_certificate
from tests.signals.test_hierarchies import _report, _settings

CATEGORIES = {"X1": ("01", "01-07", "01-07-03"), "X2": ("01", "01-07", "01-07-01"),
              "X3": ("01", "01-01", "01-01-01"), "X4": ("04", "04-01", None), "X5": ("12", None, None)}
REPORTS = {"X1": ["A040101"] * 3 + ["A070101"], "X2": ["A040101"] * 3 + ["A0502"],
           "X3": ["A040101"] + ["A070101"] * 3, "X4": ["A070101"] * 2 + ["A0502"] * 2,
           "X5": ["A040101"] * 3}


@pytest.fixture
def world(db, tmp_path):
    w = build(db)
    hospital = make_org(db, OrgKind.HOSPITAL)
    certs = {}
    for name, (sub, c1, c2) in CATEGORIES.items():
        data = initial(product_name=f"Device {name}", subcatalogue_code=sub, category1_code=c1,
                       category2_code=c2)
        certs[name] = to_certificate(db, w, w.registrant, data)[1]
        assert certs[name].number[9:11] == sub  # ××5 of the number (Order 47 Art.115)
    registrant = db.get(type(hospital), w.registrant.organisation_id)
    for name, codes in REPORTS.items():
        for i, code in enumerate(codes):
            _report(db, hospital, registrant, certs[name].number, code, i)
    for i in range(2):
        _report(db, hospital, None, None, "A040101", i, fda="FOZ")
    return {"db": db, "certs": certs, "folder": tmp_path / "snapshots",
            "centre": make_actor(db, Role.MONITORING_CENTRE, OrgKind.MONITORING_CENTRE)}


def _pairs(scored):
    return sorted(zip(scored.columns["device"], scored.columns["event"], scored.columns["n11"].tolist(),
                      strict=True))


def test_the_snapshot_carries_the_category_of_each_reports_certificate(world):
    snap = snapshot.export(world["db"], world["centre"], world["folder"])
    assert (snap.reports, snap.schema) == (21, 3)
    rows = duckdb.sql(f"SELECT category1, category2 FROM read_parquet('{snap.path}')").fetchall()
    assert Counter(r[0] for r in rows) == {"01-07": 8, "01-01": 4, "04-01": 4, None: 5}
    assert Counter(r[1] for r in rows) == {"01-07-03": 4, "01-07-01": 4, "01-01-01": 4, None: 9}


def test_category1_level_rolls_the_reports_up_to_the_first_level(world):
    db = world["db"]
    snap = snapshot.export(db, world["centre"], world["folder"])
    _, scored = score_step(_settings(world, device_level="category1"), snap)
    assert _pairs(scored) == [("01-01", "A0401", 1), ("01-01", "A0701", 3), ("01-07", "A0401", 6),
                              ("01-07", "A0502", 1), ("01-07", "A0701", 1), ("04-01", "A0502", 2),
                              ("04-01", "A0701", 2)]
    assert scored.reports == 16 and scored.owners == {}  # X5 and the FDA-coded reports are left out
    i = list(scored.columns["device"] + scored.columns["event"]).index("01-07A0401")
    # a=6, b=2, c=1, d=7: PRR = (6/8) / (1/8) = 6; E = 8 * 7 / 16 = 3.5
    assert scored.columns["prr"][i] == pytest.approx(6.0, rel=1e-12)
    assert scored.columns["expected"][i] == pytest.approx(3.5, rel=1e-12)


def test_category2_level_leaves_out_certificates_without_a_second_level(world):
    db = world["db"]
    run = run_all(db, world["centre"], _settings(world, device_level="category2", statistic="prr",
                                                 threshold=0.5))
    assert (run.device_level, run.pairs) == ("category2", 6)
    cases = [c for c in queries.list_cases(db, world["centre"]) if c.device_level == "category2"]
    # 01-07-03 x A0401: a=3, b=1, c=4, d=4 over X1-X3's 12 reports: PRR = (3/4) / (4/8) = 1.5, PRR025 =
    # 1.5 exp(-z sqrt(1/3 - 1/4 + 1/4 - 1/8)) = 0.613 (z = 1.95996); 01-01-01 x A0701: (3/4) / (1/8) = 6
    got = {(c.device, c.event): c for c in cases}
    assert set(got) == {("01-07-03", "A0401"), ("01-07-01", "A0401"), ("01-01-01", "A0701")}
    assert got["01-07-03", "A0401"].stats[0].prr_lower == pytest.approx(
        1.5 * np.exp(-norm.ppf(0.975) * np.sqrt(1 / 3 - 1 / 4 + 1 / 4 - 1 / 8)), rel=1e-9)
    assert got["01-01-01", "A0701"].stats[0].prr == pytest.approx(6.0, rel=1e-12)
    case = got["01-07-03", "A0401"]
    assert case.stats[0].n11 == 3 and case.stats[0].prr == pytest.approx(1.5, rel=1e-12)
    assert (case.owner_org_id, case.registration_number) == (None, None)
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "signals.run")
                      .order_by(AuditEvent.id)).all()[-1]
    assert (event.after["reports"], event.after["counted_reports"]) == (21, 12)  # X1-X3 only


def test_a_configured_analysis_may_run_at_a_catalogue_level(world):
    values = {"name": "by 二级", "device_level": "category2", "strata": "sex"}
    a = analyses.create_analysis(world["db"], world["centre"], values)
    assert (a.device_level, a.strata) == ("category2", "sex")
    with pytest.raises(ValidationFailed) as err:
        analyses.create_analysis(world["db"], world["centre"], {"name": "x", "device_level": "category3"})
    assert err.value.field == "device_level"


def test_a_category_changed_on_the_certificate_reaches_the_next_incremental_snapshot(world):
    db = world["db"]
    first = snapshot.export(db, world["centre"], world["folder"])
    world["certs"]["X2"].category2_code = "01-07-02"  # what a change registration writes (Order 47 Art.79)
    db.flush()
    second = snapshot.export(db, world["centre"], world["folder"])
    assert (second.base_version, second.changed_reports) == (first.version, 0)  # no report changed
    rows = duckdb.sql(f"SELECT category2 FROM read_parquet('{second.path}')").fetchall()
    assert Counter(r[0] for r in rows)["01-07-02"] == 4 and "01-07-01" not in {r[0] for r in rows}


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("MEDREG_TEST_DB") == "postgresql",
                    reason="the engine is database-independent; runs in the SQLite pass")
@pytest.mark.parametrize("level", ["category1", "category2"])
def test_spark_counts_the_catalogue_levels_as_duckdb_does(world, level):
    pytest.importorskip("pyspark")
    snap = snapshot.export(world["db"], world["centre"], world["folder"])
    out = {}
    for engine in ("duckdb", "spark"):
        _, out[engine] = score_step(_settings(world, device_level=level, engine=engine, strata="year,sex",
                                              snapshot_version=snap.version), snap)
    a, b = out["duckdb"], out["spark"]
    assert a.columns.keys() == b.columns.keys() and a.prior == b.prior and a.reports == b.reports
    for name in a.columns:
        assert np.array_equal(a.columns[name], b.columns[name],
                              equal_nan=a.columns[name].dtype != object), name
