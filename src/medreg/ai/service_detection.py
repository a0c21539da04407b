"""Detection tasks inside the sealed service: sealed lesions, the checking of marks, scoring by FROC.

A detection version states its matching rule (``matching``: centre distance or IoU, coordinates per
location, duplicates policy; public, see medreg.ai.detection). Each case carries a list of lesions that is
sealed like a label: stored in ``ai_eval_lesion``, read only here, in the Merkle leaf of its case
(``leaf_label``), never returned. ``ai_eval_label`` keeps the lesion count (sealed too).

A registrant gives one output per case: a list of marks (a location and a score; an empty list for an
image where the algorithm marks nothing). Every check of the marks depends only on public facts (case ids,
the rule, the coordinates per location), so error messages are the same whatever the lesions are.
Returned: lesion sensitivity at the stated FP rates with its Wilson interval, the CPM, and the lesion and
image counts. The FROC curve is not returned to a registrant: each of its steps sits at one of the
registrant's own mark scores and says whether that mark hit a lesion, which would reveal the lesion's
location. Curators can read it (``run_froc``).
"""

from __future__ import annotations

import json
import math

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.ai import report
from medreg.ai.detection import LUNA16_RATES, CentreDistance, ImageMarks, ImageTruth, IoU, froc
from medreg.ai.detection_compare import lesion_agreement
from medreg.ai.models import EvalCase, EvalLesion, EvalVersion
from medreg.ai.schemas import VersionCreate
from medreg.core.errors import ValidationFailed

NO_CURVE = "withheld: its steps at the registrant's own mark scores would reveal lesion locations"


def leaf_label(lesions: list) -> str:
    """What stands for the label in the Merkle leaf of a detection case: its lesions, canonical JSON."""
    return "lesions:" + json.dumps(lesions, separators=(",", ":"))


def _finite(values: list[float]) -> bool:
    return all(math.isfinite(v) for v in values)


def _box_ok(loc: list[float]) -> bool:
    return loc[2] > loc[0] and loc[3] > loc[1]


def check_cases(d: VersionCreate) -> None:
    """Curator input of a detection version: the rule, and every case's lesions under that rule."""
    m = d.matching
    if m is None:
        raise ValidationFailed("A detection task needs its matching rule.", field="matching")
    if d.categories is not None:
        raise ValidationFailed("A detection task has no categories.", field="categories")
    width = 4 if m.rule == "iou" else m.dims + 1
    n_lesions = 0
    for i, c in enumerate(d.cases):
        if c.lesions is None or c.label is not None:
            raise ValidationFailed("Case '{case_id}' of a detection task needs its lesions and no label.",
                                   field=f"cases.{i}.lesions", params={"case_id": c.case_id})
        for j, loc in enumerate(c.lesions):
            bad = len(loc) != width or not _finite(loc) or (m.rule == "iou" and not _box_ok(loc)) or (
                m.rule == "centre" and loc[-1] <= 0)
            if bad:
                shape = _shape(m.rule, m.dims, True)
                raise ValidationFailed("Lesion {index} of case '{case_id}' must be {shape}.",
                                       field=f"cases.{i}.lesions.{j}",
                                       params={"index": j, "case_id": c.case_id, "shape": shape})
        n_lesions += len(c.lesions)
    if n_lesions == 0:
        raise ValidationFailed("A detection evaluation set needs at least one lesion.", field="cases")


def _shape(rule: str, dims: int, lesion: bool) -> str:
    if rule == "iou":
        return "[x0, y0, x1, y1] with x1 > x0 and y1 > y0"
    centre = "x, y" if dims == 2 else "x, y, z"
    return f"[{centre}, radius > 0]" if lesion else f"[{centre}]"


def store_lesions(session: Session, rows: list[EvalCase], cases: list) -> None:
    session.add_all([EvalLesion(case_pk=row.id, lesions=[list(map(float, loc)) for loc in c.lesions])
                     for row, c in zip(rows, cases, strict=True)])


def sealed_lesions(session: Session, version: EvalVersion) -> dict[str, list]:
    """case_id -> lesions. SEALED: only scoring and verification code may call it."""
    rows = session.execute(select(EvalCase.case_id, EvalLesion.lesions)
                           .join(EvalLesion, EvalLesion.case_pk == EvalCase.id)
                           .where(EvalCase.version_id == version.id))
    return {r[0]: r[1] for r in rows}


def check_outputs(version: EvalVersion, outputs: list, ids: list[str]) -> dict[str, list]:
    """One list of marks per case, all or nothing: case_id -> [[*location, score], ...]. Every message
    depends on public facts only (case ids, the rule, coordinates per location)."""
    m = version.matching
    width = 4 if m["rule"] == "iou" else m["dims"]
    known, out = set(ids), {}
    for i, o in enumerate(outputs):
        if o.case_id not in known:
            raise ValidationFailed("Case '{case_id}' of the outputs is not in the evaluation set.",
                                   field=f"outputs.{i}.case_id", params={"case_id": o.case_id})
        if o.case_id in out:
            raise ValidationFailed("Case '{case_id}' appears twice.", field=f"outputs.{i}.case_id",
                                   params={"case_id": o.case_id})
        if o.marks is None or o.score is not None or o.output_class is not None:
            raise ValidationFailed("The output of case '{case_id}' must be a list of marks.",
                                   field=f"outputs.{i}.marks", params={"case_id": o.case_id})
        marks = []
        for j, mark in enumerate(o.marks):
            loc = list(mark.location)
            if len(loc) != width or not _finite(loc) or (m["rule"] == "iou" and not _box_ok(loc)):
                raise ValidationFailed("Mark {index} of case '{case_id}' must be located at {shape}.",
                                       field=f"outputs.{i}.marks.{j}.location",
                                       params={"index": j, "case_id": o.case_id,
                                               "shape": _shape(m["rule"], m["dims"], False)})
            if not (math.isfinite(mark.score) and 0.0 <= mark.score <= 1.0):
                raise ValidationFailed("The score of case '{case_id}' must be a number within [0, 1].",
                                       field=f"outputs.{i}.marks.{j}.score", params={"case_id": o.case_id})
            marks.append([*map(float, loc), float(mark.score)])
        out[o.case_id] = marks
    missing = [c for c in ids if c not in out]
    if missing:
        raise ValidationFailed("{count} case(s) have no output in {source}, first '{case_id}'.",
                               field="outputs", params={"count": len(missing), "case_id": missing[0],
                                                        "source": "the outputs"})
    return out


def _rule(m: dict):
    return IoU(m["iou"]) if m["rule"] == "iou" else CentreDistance(m.get("max_distance"))


def _truths_and_marks(m: dict, lesions: dict[str, list], outputs: dict[str, list]):
    width = 4 if m["rule"] == "iou" else m["dims"]
    truths, marks = {}, {}
    for cid, items in lesions.items():
        arr = np.array(items, dtype=float).reshape(-1, 4 if m["rule"] == "iou" else width + 1)
        truths[cid] = (ImageTruth(boxes=arr) if m["rule"] == "iou"
                       else ImageTruth(centres=arr[:, :width], radii=arr[:, width]))
    for cid, items in outputs.items():
        arr = np.array(items, dtype=float).reshape(-1, width + 1)
        marks[cid] = ImageMarks(arr[:, :width], arr[:, width])
    return truths, marks


def groups_of(version: EvalVersion, cases: list) -> dict[str, dict[str, str]]:
    """field -> case id -> value, from the sealed cases (metadata is sealed; only aggregates leave)."""
    return {f: {c[0]: str(c[2].get(f, "")) for c in cases} for f in version.metadata_fields}


def score(version: EvalVersion, lesions: dict[str, list], outputs: dict[str, list],
          groups: dict[str, dict[str, str]] | None = None, min_subgroup: int = 20) -> dict:
    """Aggregate detection metrics for a registrant, by subgroup too: no FROC curve (see the module
    docstring); subgroups under ``min_subgroup`` images are listed without metrics."""
    m = version.matching
    truths, marks = _truths_and_marks(m, lesions, outputs)
    body = report.detection_report(truths, marks, _rule(m), rates=LUNA16_RATES, duplicates=m["duplicates"],
                                   groups=groups or None)
    body["froc"] = NO_CURVE
    for sub in body.get("subgroups", []):
        if sub["n"] < min_subgroup:
            sub["metrics"], sub["flagged"], sub["suppressed"] = [], [], f"fewer than {min_subgroup} cases"
    return body


def compare(version: EvalVersion, lesions: dict[str, list], outputs_a: dict[str, list],
            outputs_b: dict[str, list], groups: dict[str, dict[str, str]] | None = None, *,
            rate: float = 1.0, margin: float = 0.05, n_boot: int = 2000, seed: int = 0,
            min_subgroup: int = 20) -> dict:
    """Run B against run A on the same sealed images (paired image bootstrap; aggregates only)."""
    m = version.matching
    truths, marks_a = _truths_and_marks(m, lesions, outputs_a)
    _t, marks_b = _truths_and_marks(m, {}, outputs_b)
    return report.detection_comparison_report(truths, marks_a, marks_b, _rule(m), duplicates=m["duplicates"],
                                              rate=rate, margin=margin, n_boot=n_boot, seed=seed,
                                              groups=groups or None, min_subgroup=min_subgroup)


def froc_curve(version: EvalVersion, lesions: dict[str, list], outputs: dict[str, list],
               max_points: int = 200) -> dict:
    """The FROC curve of a run (curators only; the caller checks the role)."""
    m = version.matching
    truths, marks = _truths_and_marks(m, lesions, outputs)
    f = froc(truths, marks, _rule(m), m["duplicates"])
    step = max(1, len(f.fp_per_image) // max_points)
    idx = sorted(set(range(0, len(f.fp_per_image), step)) | {len(f.fp_per_image) - 1})
    return {"fp_per_image": [f.fp_per_image[i] for i in idx], "sensitivity": [f.sensitivity[i] for i in idx]}


def agreement(version: EvalVersion, lesions: dict[str, list], outputs_a: dict[str, list],
              outputs_b: dict[str, list], *, rate: float = 1.0, score_margin: float = 0.05) -> dict:
    """Per-lesion agreement of two platforms' runs at ``rate`` FP/image (aggregates only; see
    medreg.ai.detection_compare.lesion_agreement)."""
    m = version.matching
    truths, marks_a = _truths_and_marks(m, lesions, outputs_a)
    _t, marks_b = _truths_and_marks(m, {}, outputs_b)
    return lesion_agreement(truths, marks_a, marks_b, _rule(m), m["duplicates"], rate, score_margin)
