"""Demo signal detection (on the MADE-UP demo reports of ``medreg.vigilance.demo``).

``medreg demo load`` creates one configured analysis through the analyses service (as the analyses page
and ``medreg signals analyses add`` do: device level registration certificate, IMDRF Annex A level 1,
EBGM with the published EB05 > 2 and n11 >= 3) and runs it once through the run service that ``medreg
signals run`` uses (export the next snapshot into ``signals_snapshot_dir``, score, open the cases). The
demo reports carry a planted disproportionate pair (see ``medreg.vigilance.demo``) for it to find.
The export is a full one (not built on a snapshot left in the folder by an earlier demo database).
Once only: ``medreg demo load`` skips it when the analysis exists.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.core.actor import Actor
from medreg.core.settings import get_settings
from medreg.signals import analyses
from medreg.signals.models import SignalAnalysis, SignalRun
from medreg.signals.runs import run_all

NAME = "演示：注册证 × IMDRF 附录A一级 (demo)"
VALUES = {"name": NAME, "event_level": 1, "annexes": "A", "device_level": "certificate",
          "statistic": "ebgm", "threshold": None, "min_n": 3, "engine": "duckdb"}


def loaded(session: Session) -> bool:
    return session.scalar(select(SignalAnalysis.id).where(SignalAnalysis.name == NAME)) is not None


def load(session: Session, actor: Actor, folder: Path | str | None = None) -> SignalRun:
    """The demo analysis (created by ``actor``, the demo monitoring centre) and its first run."""
    analysis = analyses.create_analysis(session, actor, VALUES)
    folder = str(Path(folder or get_settings().signals_snapshot_dir).absolute())
    # a full export: a folder left over from an earlier demo database must not be built on
    return run_all(session, actor, replace(analyses.settings_for(analysis, folder), incremental=False))
