"""surveillance_0010 links each existing alert to the signal case holding its look (and leaves alone an
alert no case holds, and every alert's state); SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from medreg.core import migrate
from tests.core.test_migrations import empty_database_url  # noqa: F401 (fixture)

NOW = "2026-01-01 00:00:00"


def test_existing_alerts_are_linked_to_the_case_of_their_look(empty_database_url):  # noqa: F811
    cfg = migrate.alembic_config(empty_database_url)
    command.upgrade(cfg, "surveillance_0010-1")  # the revision before it
    engine = sa.create_engine(empty_database_url)
    try:
        with engine.begin() as c:
            c.execute(sa.text(
                "INSERT INTO surveillance_monitor (id, name, device_group, udi_di, outcome, window_days, "
                "reference_start, reference_end, alpha, sample_size, min_events, critical_value, status, "
                "created_at) VALUES (1, 'm', 'coronary_stent', '06991000000012', 'death', 30, '2024-01-01', "
                f"'2024-12-31', 0.05, 20, 4, 3.2, 'signalled', '{NOW}')"))
            for look in (1, 2):
                c.execute(sa.text(
                    "INSERT INTO surveillance_look (id, monitor_id, look_no, as_of, procedures, observed, "
                    f"expected, llr, critical_value, signal, created_at) VALUES ({look}, 1, {look}, "
                    f"'2025-0{look}-01', 10, 9, 2.6, 4.78, 3.2, true, '{NOW}')"))
                c.execute(sa.text(
                    "INSERT INTO surveillance_alert (id, monitor_id, look_id, status, summary, opened_at, "
                    f"updated_at, version) VALUES ({look}, 1, {look}, 'investigating', 's', '{NOW}', "
                    f"'{NOW}', 1)"))
            c.execute(sa.text(
                "INSERT INTO signals_case (id, device, event, status, criteria, opened_at, updated_at, "
                f"version, source, alert_id) VALUES (7, '06991000000012', 'death', 'validated', 'LLR', "
                f"'{NOW}', '{NOW}', 1, 'surveillance_monitor', 1)"))
            c.execute(sa.text(
                "INSERT INTO signals_case_stat (id, case_id, run_label, computed_at, n11, look_id) "
                f"VALUES (1, 7, 'look 1', '{NOW}', 9, 1)"))
        migrate.upgrade(empty_database_url)
        with engine.connect() as c:
            rows = c.execute(sa.text(
                "SELECT id, signal_case_id, status FROM surveillance_alert ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [(1, 7, "investigating"), (2, None, "investigating")]
    finally:
        engine.dispose()
