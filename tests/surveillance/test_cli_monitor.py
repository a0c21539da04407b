"""``medreg surveillance monitor-create`` inside the test's rolled-back transaction: the CUSUM design
options are stored; a bad one exits with the validation error's code and names the field."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from medreg.cli import app
from medreg.core import cli_support
from medreg.core.accounts import OrgKind, Role
from medreg.surveillance.demo import DEVICES
from medreg.surveillance.models import Monitor
from tests.factories import make_org, make_user

runner = CliRunner()
BASE = ["surveillance", "monitor-create", "--name", "CLI stent", "--group", "coronary_stent",
        "--di", DEVICES[3][1], "--outcome", "target_lesion_failure", "--window-days", "180",
        "--reference-start", "2024-01-01", "--reference-end", "2024-12-31", "--T", "30", "--M", "1"]


@pytest.fixture
def centre(db, monkeypatch):
    @contextmanager
    def scope():
        yield db
        db.flush()

    monkeypatch.setattr(cli_support, "session_scope", scope)
    return make_user(db, Role.MONITORING_CENTRE, org=make_org(db, OrgKind.MONITORING_CENTRE)).username


def test_monitor_create_takes_the_cusum_design(db, centre):
    r = runner.invoke(app, [*BASE, "--user", centre, "--looks", "3", "--cusum-or", "1.5",
                            "--cusum-null-or", "1", "--cusum-false-alarm", "0.01", "--notes", "from the CLI"])
    assert r.exit_code == 0, r.output
    assert "R_A=1.5" in r.output and "false alarm 0.01" in r.output
    m = db.scalars(select(Monitor).where(Monitor.name == "CLI stent")).one()
    assert (m.cusum_odds_ratio, m.cusum_null_odds_ratio, m.cusum_false_alarm) == (1.5, 1.0, 0.01)
    assert m.look_plan == pytest.approx([10.0, 20.0, 30.0])
    assert m.notes == "from the CLI"


def test_monitor_create_refuses_a_cusum_alternative_equal_to_the_null(db, centre):
    r = runner.invoke(app, [*BASE, "--user", centre, "--cusum-or", "1", "--cusum-null-or", "1"])
    assert r.exit_code != 0 and "cusum_odds_ratio" in r.output


def test_monitor_create_delta_and_stop(db, centre):
    """``--kind delta`` stores DELTA's design and states its alert rule; ``monitor-stop`` ends it with
    the reason; a bad margin exits naming the field."""
    r = runner.invoke(app, [*BASE, "--user", centre, "--kind", "delta", "--margin", "0.01",
                            "--min-pairs", "30", "--caliper", "0.1", "--alpha", "0.01"])
    assert r.exit_code == 0, r.output
    assert "exceeds 0.01" in r.output and "30 matched pairs" in r.output
    m = db.scalars(select(Monitor).where(Monitor.name == "CLI stent")).one()
    assert (m.kind, m.delta_margin, m.delta_min_pairs, m.delta_caliper, m.alpha) == (
        "delta", 0.01, 30, 0.1, 0.01)
    stop = ["surveillance", "monitor-stop", str(m.id), "--user", centre, "--reason"]
    r = runner.invoke(app, [*stop, "recall"])
    assert r.exit_code == 0, r.output
    db.refresh(m)
    assert (m.status, m.stop_reason, m.stopped_by) == ("stopped", "recall", centre)
    r = runner.invoke(app, [*stop, "again"])
    assert r.exit_code != 0 and "monitor" in r.output
    r = runner.invoke(app, [*BASE, "--user", centre, "--kind", "delta", "--margin", "0.9"])
    assert r.exit_code != 0 and "delta_margin" in r.output
    r = runner.invoke(app, [*BASE, "--user", centre, "--kind", "sprt"])
    assert r.exit_code != 0 and "kind" in r.output


def test_run_prints_a_delta_look(db, centre):
    """``medreg surveillance run`` lists a DELTA look's pairs, risk difference and CI."""
    from medreg.core.actor import Actor
    from medreg.surveillance.demo_load import load_registry
    from medreg.surveillance.models import Look

    load_registry(db, Actor.system(), seed=2025, n_procedures=3000)
    r = runner.invoke(app, [*BASE, "--user", centre, "--kind", "delta"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["surveillance", "run", "--user", centre, "--as-of", "2026-06-30"])
    assert r.exit_code == 0, r.output
    m = db.scalars(select(Monitor).where(Monitor.name == "CLI stent")).one()
    look = db.scalars(select(Look).where(Look.monitor_id == m.id)).one()
    assert f"{look.risk_difference:.4f}" in r.output and f"{look.pairs}," in r.output


def test_monitor_create_binomial(db, centre):
    r = runner.invoke(app, [*BASE, "--user", centre, "--kind", "maxsprt_binomial", "--z", "3", "--T", "100"])
    assert r.exit_code == 0, r.output
    assert "binomial, 1:3 matched, N=100 events" in r.output
    m = db.scalars(select(Monitor).where(Monitor.name == "CLI stent")).one()
    assert (m.kind, m.binomial_z, m.sample_size, m.min_events) == ("maxsprt_binomial", 3, 100.0, 1)
    r = runner.invoke(app, [*BASE, "--user", centre, "--kind", "maxsprt_binomial", "--z", "11"])
    assert r.exit_code != 0 and "binomial_z" in r.output


def test_monitor_create_delta_with_alpha_spending_and_run(db, centre):
    """``--spending obf --planned-pairs 400``: the spending rule is printed; ``run`` shows the look's
    information fraction; ``--spending`` without planned pairs names the field."""
    from medreg.core.actor import Actor
    from medreg.surveillance.demo_load import load_registry

    r = runner.invoke(app, [*BASE, "--user", centre, "--kind", "delta", "--spending", "obf"])
    assert r.exit_code != 0 and "delta_planned_pairs" in r.output
    load_registry(db, Actor.system(), seed=2025, n_procedures=3000)
    r = runner.invoke(app, [*BASE, "--user", centre, "--kind", "delta", "--spending", "obf",
                            "--planned-pairs", "400", "--alpha", "0.025"])
    assert r.exit_code == 0, r.output
    assert "O'Brien-Fleming-type function over 400 planned pairs" in r.output
    m = db.scalars(select(Monitor).where(Monitor.name == "CLI stent")).one()
    assert (m.delta_spending, m.delta_planned_pairs) == ("obf", 400)
    r = runner.invoke(app, ["surveillance", "run", "--user", centre, "--as-of", "2026-06-30"])
    assert r.exit_code == 0, r.output
    assert "t=" in r.output and "spent" in r.output


def test_monitor_create_group_sequential_binomial(db, centre):
    r = runner.invoke(app, [*BASE, "--user", centre, "--kind", "maxsprt_binomial", "--z", "2", "--T", "150",
                            "--look-at", "0.25,0.5,1"])
    assert r.exit_code == 0, r.output
    assert "N=150 events, group-sequential, looks at [38, 75, 150] events" in r.output
    m = db.scalars(select(Monitor).where(Monitor.name == "CLI stent")).one()
    assert (m.planned_looks, m.look_plan) == (3, [38.0, 75.0, 150.0])
    r = runner.invoke(app, [*BASE, "--user", centre, "--kind", "maxsprt_binomial", "--T", "20",
                            "--looks", "30"])
    assert r.exit_code != 0 and "planned_looks" in r.output
