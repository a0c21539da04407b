"""Reading CSV files for the ``medreg ai`` commands (an unreadable file is a ValidationFailed)."""

from __future__ import annotations

import csv
from pathlib import Path

from medreg.core.errors import ValidationFailed


def read_rows(path: Path, what: str) -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            return [dict(r) for r in csv.DictReader(fh)]
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise ValidationFailed("Cannot read {path}: {reason}", field=what,
                               params={"path": str(path), "reason": type(err).__name__}) from None


def split_cols(values: list[str] | None) -> list[str]:
    return [c.strip() for v in values or [] for c in v.split(",") if c.strip()]
