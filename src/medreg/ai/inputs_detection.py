"""Reading detection labels (lesions) and outputs (marks) from parsed CSV rows. Pure.

Labels, one row per lesion, every image listed at least once (an image without lesion: a row with its
``case_id`` and empty coordinates):
  centre rule: ``case_id,x,y[,z],radius``  (radius may be empty when a fixed ``max_distance`` is used)
  IoU rule:    ``case_id,x0,y0,x1,y1``
Outputs, one row per mark (images without marks need no row): the same location columns and ``score``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from medreg.ai.detection import ImageMarks, ImageTruth
from medreg.core.errors import ValidationFailed

BOX = ("x0", "y0", "x1", "y1")


def _num(row: Mapping[str, str], col: str, cid: str, *, positive: bool = False) -> float:
    raw = (row.get(col) or "").strip()
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or (positive and value <= 0):
        raise ValidationFailed("Column '{column}' of case '{case_id}' must be a number.", field=col,
                               params={"column": col, "case_id": cid})
    return value


def _location_cols(rows: Sequence[Mapping[str, str]], boxes: bool) -> tuple[str, ...]:
    present = set(rows[0]) if rows else set()
    cols = BOX if boxes else (("x", "y", "z") if "z" in present else ("x", "y"))
    for col in ("case_id", *cols):
        if col not in present:
            raise ValidationFailed("Column '{column}' is missing from {source}.", field=col,
                                   params={"column": col, "source": "the file"})
    return cols


def read_lesions(rows: Sequence[Mapping[str, str]], *, boxes: bool,
                 need_radius: bool) -> dict[str, ImageTruth]:
    if not rows:
        raise ValidationFailed("{source} has no cases.", field="case_id", params={"source": "the labels"})
    cols = _location_cols(rows, boxes)
    if need_radius and not boxes and "radius" not in rows[0]:
        raise ValidationFailed("Column '{column}' is missing from {source}.", field="radius",
                               params={"column": "radius", "source": "the labels"})
    found: dict[str, list] = {}
    for row in rows:
        cid = (row.get("case_id") or "").strip()
        if not cid:
            raise ValidationFailed("Every row of {source} needs a case_id of 1 to 128 characters.",
                                   field="case_id", params={"source": "the labels"})
        found.setdefault(cid, [])
        if all(not (row.get(c) or "").strip() for c in cols):
            continue  # an image without lesion
        loc = [_num(row, c, cid) for c in cols]
        radius = _num(row, "radius", cid, positive=True) if need_radius and not boxes else math.nan
        found[cid].append((loc, radius))
    out = {}
    for cid, items in found.items():
        locs = np.array([i[0] for i in items], dtype=float).reshape(-1, len(cols))
        if boxes:
            out[cid] = ImageTruth(boxes=locs)
        else:
            out[cid] = ImageTruth(centres=locs, radii=np.array([i[1] for i in items], dtype=float))
    return out


def read_marks(rows: Sequence[Mapping[str, str]], images: Mapping[str, ImageTruth], *,
               boxes: bool) -> dict[str, ImageMarks]:
    if not rows:
        return {}
    cols = _location_cols(rows, boxes)
    if "score" not in rows[0]:
        raise ValidationFailed("Column '{column}' is missing from {source}.", field="score",
                               params={"column": "score", "source": "the outputs"})
    found: dict[str, list] = {}
    for row in rows:
        cid = (row.get("case_id") or "").strip()
        if cid not in images:
            raise ValidationFailed("Case '{case_id}' of {source} is not in the evaluation set.",
                                   field="case_id", params={"case_id": cid, "source": "the outputs"})
        score = _num(row, "score", cid)
        if not 0 <= score <= 1:
            raise ValidationFailed("The score of case '{case_id}' must be a number within [0, 1].",
                                   field="score", params={"case_id": cid})
        found.setdefault(cid, []).append(([_num(row, c, cid) for c in cols], score))
    return {cid: ImageMarks(np.array([i[0] for i in items], dtype=float).reshape(-1, len(cols)),
                            np.array([i[1] for i in items], dtype=float)) for cid, items in found.items()}


# --- the sealed service's CSV forms (curator cases, registrant marks) ----------------------------------


def location_columns(rule: str, dims: int) -> tuple[str, ...]:
    """Location columns of a detection CSV under the version's matching rule."""
    return BOX if rule == "iou" else (("x", "y", "z") if dims == 3 else ("x", "y"))


def _rows_by_case(rows: Sequence[Mapping[str, str]], cols: tuple[str, ...], source: str) -> dict[str, list]:
    if not rows:
        raise ValidationFailed("{source} has no cases.", field="case_id", params={"source": source})
    for col in ("case_id", *cols):
        if col not in rows[0]:
            raise ValidationFailed("Column '{column}' is missing from {source}.", field=col,
                                   params={"column": col, "source": source})
    out: dict[str, list] = {}
    for row in rows:
        cid = (row.get("case_id") or "").strip()
        if not cid:
            raise ValidationFailed("Every row of {source} needs a case_id of 1 to 128 characters.",
                                   field="case_id", params={"source": source})
        out.setdefault(cid, []).append(row)
    return out


def _empty(row: Mapping[str, str], cols: Sequence[str]) -> bool:
    return all(not (row.get(c) or "").strip() for c in cols)


def cases_from_rows(rows: Sequence[Mapping[str, str]], *, rule: str, dims: int,
                    metadata_fields: Sequence[str]) -> list[dict]:
    """Cases of a detection version from a CSV with one row per lesion (``case_id``, the location columns,
    ``radius`` under the centre rule, the metadata columns; a row with empty coordinates for an image
    without lesion). The metadata of a case must be the same on all its rows."""
    cols = location_columns(rule, dims)
    if rule != "iou":
        cols = (*cols, "radius")
    out = []
    for cid, items in _rows_by_case(rows, cols, "the cases").items():
        meta = {f: (items[0].get(f) or "").strip() for f in metadata_fields}
        lesions = []
        for row in items:
            if any((row.get(f) or "").strip() != meta[f] for f in metadata_fields):
                raise ValidationFailed("The metadata of case '{case_id}' differ between its rows.",
                                       field="metadata", params={"case_id": cid})
            if not _empty(row, cols):
                lesions.append([_num(row, c, cid) for c in cols])
        out.append({"case_id": cid, "lesions": lesions, "metadata": meta})
    return out


def marks_from_rows(rows: Sequence[Mapping[str, str]], *, rule: str, dims: int) -> list[dict]:
    """One output per case from a CSV with one row per mark (``case_id``, the location columns, ``score``);
    every case appears at least once, with empty coordinates and score when nothing is marked on it."""
    cols = location_columns(rule, dims)
    out = []
    for cid, items in _rows_by_case(rows, (*cols, "score"), "the outputs").items():
        marks = []
        for row in items:
            if not _empty(row, (*cols, "score")):
                marks.append({"location": [_num(row, c, cid) for c in cols],
                              "score": _num(row, "score", cid)})
        out.append({"case_id": cid, "marks": marks})
    return out
