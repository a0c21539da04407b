"""Reading and checking reference labels and algorithm outputs (rows of a CSV file, already parsed).

Pure: rows in, arrays out. Every refusal is a ``ValidationFailed`` naming the field (column) at fault.
Messages name case ids but never a reference label, so they are safe to show a registrant.

Labels: columns ``case_id,label`` (binary: 0/1; multi-class: a category name) and any metadata columns.
Outputs: columns ``case_id,score`` with a score in [0, 1] (a binary output is 0 or 1), or
``case_id,class`` for a multi-class output.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from medreg.core.errors import ValidationFailed

MAX_CASE_ID = 128


@dataclass(frozen=True)
class LabelSet:
    case_ids: tuple[str, ...]
    labels: tuple[str, ...]
    metadata: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def binary(self) -> np.ndarray:
        return np.array([int(v) for v in self.labels], dtype=np.int8)


def _need_columns(rows: Sequence[Mapping[str, str]], columns: Iterable[str], source: str) -> None:
    present = set(rows[0]) if rows else set()
    for col in columns:
        if col not in present:
            raise ValidationFailed("Column '{column}' is missing from {source}.", field=col,
                                   params={"column": col, "source": source})


def _case_ids(rows: Sequence[Mapping[str, str]], source: str) -> list[str]:
    ids, seen = [], set()
    for row in rows:
        cid = (row.get("case_id") or "").strip()
        if not cid or len(cid) > MAX_CASE_ID:
            raise ValidationFailed("Every row of {source} needs a case_id of 1 to 128 characters.",
                                   field="case_id", params={"source": source})
        if cid in seen:
            raise ValidationFailed("Case '{case_id}' appears twice in {source}.", field="case_id",
                                   params={"case_id": cid, "source": source})
        seen.add(cid)
        ids.append(cid)
    return ids


def read_labels(rows: Sequence[Mapping[str, str]], *, task: str = "binary", metadata_cols: Sequence[str] = (),
                source: str = "the labels") -> LabelSet:
    """Reference labels (and the metadata columns to keep) from parsed CSV rows."""
    if not rows:
        raise ValidationFailed("{source} has no cases.", field="case_id", params={"source": source})
    _need_columns(rows, ["case_id", "label", *metadata_cols], source)
    ids = _case_ids(rows, source)
    labels = [(row.get("label") or "").strip() for row in rows]
    for cid, lab in zip(ids, labels, strict=True):
        if task == "binary" and lab not in ("0", "1"):
            raise ValidationFailed("The label of case '{case_id}' must be 0 or 1.", field="label",
                                   params={"case_id": cid})
        if not lab:
            raise ValidationFailed("The label of case '{case_id}' is empty.", field="label",
                                   params={"case_id": cid})
    if task == "binary" and len(set(labels)) < 2:
        raise ValidationFailed("The labels need at least one positive and one negative case.", field="label")
    meta = {c: tuple((row.get(c) or "").strip() for row in rows) for c in metadata_cols}
    return LabelSet(tuple(ids), tuple(labels), meta)


def read_scores(rows: Sequence[Mapping[str, str]], *, source: str = "the outputs") -> dict[str, float]:
    """``case_id -> score`` with every score a number within [0, 1]."""
    if not rows:
        raise ValidationFailed("{source} has no cases.", field="case_id", params={"source": source})
    _need_columns(rows, ["case_id", "score"], source)
    out = {}
    for cid, row in zip(_case_ids(rows, source), rows, strict=True):
        raw = (row.get("score") or "").strip()
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and 0.0 <= value <= 1.0):
            raise ValidationFailed("The score of case '{case_id}' must be a number within [0, 1].",
                                   field="score", params={"case_id": cid})
        out[cid] = value
    return out


def read_classes(rows: Sequence[Mapping[str, str]], categories: Sequence[str], *,
                 source: str = "the outputs") -> dict[str, str]:
    """``case_id -> class`` with every class one of ``categories``."""
    if not rows:
        raise ValidationFailed("{source} has no cases.", field="case_id", params={"source": source})
    _need_columns(rows, ["case_id", "class"], source)
    allowed = set(categories)
    out = {}
    for cid, row in zip(_case_ids(rows, source), rows, strict=True):
        value = (row.get("class") or "").strip()
        if value not in allowed:
            raise ValidationFailed("The class of case '{case_id}' must be one of: {allowed}.", field="class",
                                   params={"case_id": cid, "allowed": ", ".join(categories)})
        out[cid] = value
    return out


def align(case_ids: Sequence[str], outputs: Mapping[str, object], *, source: str = "the outputs") -> list:
    """The outputs in the order of ``case_ids``: exactly one output per case, no unknown case."""
    known = set(case_ids)
    unknown = [c for c in outputs if c not in known]
    if unknown:
        raise ValidationFailed("Case '{case_id}' of {source} is not in the evaluation set.", field="case_id",
                               params={"case_id": unknown[0], "source": source})
    missing = [c for c in case_ids if c not in outputs]
    if missing:
        raise ValidationFailed("{count} case(s) have no output in {source}, first '{case_id}'.",
                               field="case_id",
                               params={"count": len(missing), "case_id": missing[0], "source": source})
    return [outputs[c] for c in case_ids]
