from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def asah() -> dict[str, np.ndarray]:
    """pROC's aSAH data (see tests/ai/data/SOURCE.md): outcome Poor = 1."""
    with (DATA / "asah.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    return {
        "y": np.array([1 if r["outcome"] == "Poor" else 0 for r in rows]),
        "wfns": np.array([float(r["wfns"]) for r in rows]),
        "s100b": np.array([float(r["s100b"]) for r in rows]),
        "ndka": np.array([float(r["ndka"]) for r in rows]),
        "female": np.array([r["gender"] == "Female" for r in rows]),
    }


@pytest.fixture
def app(db):
    from medreg.web.app import create_app
    from tests.web.conftest import bind_session

    application = create_app()
    bind_session(application, db)
    return application


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app, follow_redirects=False) as c:
        yield c
