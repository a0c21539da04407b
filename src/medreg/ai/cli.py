"""``medreg ai``: the evaluation metrics without a database, for scripts (thin).

``medreg ai metrics --labels LABELS.csv --outputs OUTPUTS.csv`` prints one JSON object. Bad input prints
``error [field]: reason`` on stderr and exits with code 2 (see ``medreg.core.errors``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import typer

from medreg.ai import inputs, inputs_detection, report
from medreg.ai.cli_db import db_app, run_app
from medreg.ai.csvfiles import read_rows, split_cols
from medreg.ai.detection import CentreDistance, IoU
from medreg.core.errors import DomainError, ValidationFailed

app = typer.Typer(help="AI devices: evaluation metrics, version comparison, platform equivalence.",
                  no_args_is_help=True)

LABELS = typer.Option(..., "--labels", help="CSV with columns case_id,label (0/1) and metadata columns.")
THRESHOLD = typer.Option(0.5, "--threshold", help="A case is called positive when score >= threshold.")
ALPHA = typer.Option(0.05, "--alpha", min=0.0001, max=0.5, help="1 - confidence level.")


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except DomainError as err:
        where = f" [{err.field}]" if err.field else ""
        typer.secho(f"error{where}: {err.message}", err=True, fg=typer.colors.RED)
        raise typer.Exit(err.exit_code) from None


def _print(obj: dict) -> None:
    typer.echo(json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False))


def _binary_inputs(labels: Path, outputs: Path, metadata: list[str] = ()):
    lab = inputs.read_labels(read_rows(labels, "labels"), metadata_cols=metadata, source=labels.name)
    scores = inputs.read_scores(read_rows(outputs, "outputs"), source=outputs.name)
    aligned = np.array(inputs.align(lab.case_ids, scores, source=outputs.name), dtype=float)
    return lab, aligned


@app.command("metrics")
def metrics_cmd(
    labels: Path = LABELS,
    outputs: Path = typer.Option(..., "--outputs", help="CSV with columns case_id,score (score in [0, 1]) "
                                                        "or case_id,class (--task multiclass)."),
    threshold: float = THRESHOLD,
    subgroup_cols: list[str] = typer.Option(None, "--subgroup-cols",
                                            help="Metadata columns of LABELS for subgroup metrics "
                                                 "(comma-separated or repeated)."),
    task: str = typer.Option("binary", "--task", help="binary, multiclass or detection."),
    categories: str = typer.Option("", "--categories",
                                   help="multiclass: the classes in order, comma-separated."),
    ordinal: bool = typer.Option(False, "--ordinal", help="multiclass: also weighted kappas."),
    ci: str = typer.Option("wilson", "--ci", help="Interval for proportions: wilson or clopper-pearson."),
    alpha: float = ALPHA,
    specificity: list[float] = typer.Option(None, "--specificity",
                                            help="Report the operating point at this specificity (repeat)."),
    bootstrap: int = typer.Option(0, "--bootstrap", min=0, max=100_000, help="AUC bootstrap replicates."),
    seed: int = typer.Option(0, "--seed", help="Bootstrap seed."),
    rule: str = typer.Option("centre", "--rule", help="detection: centre (distance) or iou."),
    max_distance: float | None = typer.Option(None, "--max-distance", min=0.0,
                                              help="detection: hit within this distance (else the radius)."),
    iou: float = typer.Option(0.5, "--iou", min=0.01, max=1.0, help="detection: IoU threshold of a hit."),
    fp_rates: str = typer.Option("0.125,0.25,0.5,1,2,4,8", "--fp-rates",
                                 help="detection: false positives per image to report sensitivity at."),
    duplicates: str = typer.Option("ignore", "--duplicates", help="detection: ignore or false-positive."),
) -> None:
    """Metrics of one set of outputs against reference labels, as JSON (estimate, CI, method)."""
    with _errors():
        if ci not in ("wilson", "clopper-pearson"):
            raise ValidationFailed("'ci' must be wilson or clopper-pearson.", field="ci")
        if task == "detection":
            _detection(labels, outputs, rule, max_distance, iou, fp_rates, duplicates, alpha,
                       split_cols(subgroup_cols))
            return
        if task == "multiclass":
            cats = split_cols([categories])
            if len(cats) < 2:
                raise ValidationFailed("Give at least two --categories for a multiclass task.",
                                       field="categories")
            cols = split_cols(subgroup_cols)
            lab = inputs.read_labels(read_rows(labels, "labels"), task="multiclass", metadata_cols=cols,
                                     source=labels.name)
            bad = next((c for c, v in zip(lab.case_ids, lab.labels, strict=True) if v not in cats), None)
            if bad is not None:
                raise ValidationFailed("The label of case '{case_id}' is not one of the categories.",
                                       field="label", params={"case_id": bad})
            classes = inputs.read_classes(read_rows(outputs, "outputs"), cats, source=outputs.name)
            predicted = inputs.align(lab.case_ids, classes, source=outputs.name)
            _print(report.multiclass_report(list(lab.labels), predicted, cats, alpha=alpha, ci=ci,
                                            ordinal=ordinal, groups={c: lab.metadata[c] for c in cols}))
            return
        if task != "binary":
            raise ValidationFailed("'task' must be binary, multiclass or detection.", field="task")
        for t in specificity or []:
            if not 0 <= t <= 1:
                raise ValidationFailed("'specificity' must lie within [0, 1].", field="specificity")
        cols = split_cols(subgroup_cols)
        lab, scores = _binary_inputs(labels, outputs, cols)
        _print(report.binary_report(lab.binary(), scores, threshold=threshold, alpha=alpha, ci=ci,
                                    specificities=specificity or [], n_boot=bootstrap, seed=seed,
                                    groups={c: lab.metadata[c] for c in cols}))


@app.command("compare")
def compare_cmd(
    labels: Path = LABELS,
    outputs_a: Path = typer.Option(..., "--outputs-a", help="Outputs of version A (the reference)."),
    outputs_b: Path = typer.Option(..., "--outputs-b", help="Outputs of version B (the candidate)."),
    threshold: float = THRESHOLD,
    margin: float = typer.Option(0.05, "--margin", min=0.0001, max=1.0, help="Non-inferiority margin."),
    alpha: float = ALPHA,
) -> None:
    """Version B against version A on the same cases: McNemar, DeLong, non-inferiority verdicts."""
    with _errors():
        lab, a = _binary_inputs(labels, outputs_a)
        scores_b = inputs.read_scores(read_rows(outputs_b, "outputs_b"), source=outputs_b.name)
        b = np.array(inputs.align(lab.case_ids, scores_b, source=outputs_b.name), dtype=float)
        _need_auc(lab.binary())
        _print(report.comparison_report(lab.binary(), a, b, threshold=threshold, margin=margin, alpha=alpha))


@app.command("equivalence")
def equivalence_cmd(
    outputs_a: Path = typer.Option(..., "--outputs-a", help="Outputs on platform A (registered)."),
    outputs_b: Path = typer.Option(..., "--outputs-b", help="Outputs on platform B (new)."),
    labels: Path | None = typer.Option(None, "--labels",
                                       help="Optional reference labels: metric differences."),
    threshold: float = THRESHOLD,
    score_margin: float = typer.Option(0.05, "--score-margin", min=0.0001, max=1.0,
                                       help="TOST bounds -/+ margin for the mean score difference."),
    metric_margin: float = typer.Option(0.02, "--metric-margin", min=0.0001, max=1.0,
                                        help="Largest acceptable metric difference."),
    alpha: float = ALPHA,
) -> None:
    """The same software version on two platforms: agreement, Bland-Altman, TOST, verdict with reasons."""
    with _errors():
        sa = inputs.read_scores(read_rows(outputs_a, "outputs_a"), source=outputs_a.name)
        sb = inputs.read_scores(read_rows(outputs_b, "outputs_b"), source=outputs_b.name)
        ids = list(sa)
        y = None
        if labels is not None:
            lab = inputs.read_labels(read_rows(labels, "labels"), source=labels.name)
            ids = list(lab.case_ids)
            y = lab.binary()
            _need_auc(y)
            inputs.align(ids, sa, source=outputs_a.name)
        a = np.array(inputs.align(ids, sa, source=outputs_a.name), dtype=float)
        b = np.array(inputs.align(ids, sb, source=outputs_b.name), dtype=float)
        if len(ids) < 2:
            raise ValidationFailed("Platform equivalence needs at least two cases.", field="case_id")
        _print(report.equivalence_report(a, b, labels=y, threshold=threshold, score_margin=score_margin,
                                         metric_margin=metric_margin, alpha=alpha))


def _need_auc(y: np.ndarray) -> None:
    npos = int(y.sum())
    if min(npos, y.size - npos) < 2:
        raise ValidationFailed("Comparing AUCs needs at least two positive and two negative cases.",
                               field="label")


app.add_typer(db_app, name="db")
app.add_typer(run_app, name="run")


def _matcher(rule: str, max_distance: float | None, iou: float, duplicates: str):
    if rule not in ("centre", "iou"):
        raise ValidationFailed("'rule' must be centre or iou.", field="rule")
    if duplicates not in ("ignore", "false-positive"):
        raise ValidationFailed("'duplicates' must be ignore or false-positive.", field="duplicates")
    return IoU(iou) if rule == "iou" else CentreDistance(max_distance)


def _image_groups(rows: list[dict], cols: list[str]) -> dict[str, dict[str, str]]:
    """field -> image id -> value, from the first row of each image in the lesions CSV."""
    for col in cols:
        if rows and col not in rows[0]:
            raise ValidationFailed("Column '{column}' is missing from {source}.", field=col,
                                   params={"column": col, "source": "the labels"})
    out: dict[str, dict[str, str]] = {c: {} for c in cols}
    for row in rows:
        cid = (row.get("case_id") or "").strip()
        for c in cols:
            out[c].setdefault(cid, (row.get(c) or "").strip())
    return out


def _detection(labels: Path, outputs: Path, rule: str, max_distance: float | None, iou: float, fp_rates: str,
               duplicates: str, alpha: float, cols: list[str] = ()) -> None:
    matcher = _matcher(rule, max_distance, iou, duplicates)
    try:
        rates = [float(x) for x in split_cols([fp_rates])]
    except ValueError:
        rates = []
    if not rates or any(not 0 < r <= 1000 for r in rates):
        raise ValidationFailed("'fp-rates' must be positive numbers, comma-separated.", field="fp-rates")
    boxes = rule == "iou"
    rows = read_rows(labels, "labels")
    truths = inputs_detection.read_lesions(rows, boxes=boxes, need_radius=not boxes and max_distance is None)
    marks = inputs_detection.read_marks(read_rows(outputs, "outputs"), truths, boxes=boxes)
    _print(report.detection_report(truths, marks, matcher, rates=rates, duplicates=duplicates, alpha=alpha,
                                   groups=_image_groups(rows, list(cols)) or None))


@app.command("compare-detection")
def compare_detection_cmd(
    labels: Path = LABELS,
    outputs_a: Path = typer.Option(..., "--outputs-a", help="Marks of version A (the reference)."),
    outputs_b: Path = typer.Option(..., "--outputs-b", help="Marks of version B (the candidate)."),
    fp_rate: float = typer.Option(1.0, "--fp-rate", min=0.001, max=1000.0,
                                  help="False positives per image at which sensitivities are compared."),
    margin: float = typer.Option(0.05, "--margin", min=0.0001, max=1.0, help="Non-inferiority margin."),
    subgroup_cols: list[str] = typer.Option(None, "--subgroup-cols", help="Metadata columns of LABELS."),
    rule: str = typer.Option("centre", "--rule", help="centre (distance) or iou."),
    max_distance: float | None = typer.Option(None, "--max-distance", min=0.0,
                                              help="hit within this distance (else the radius)."),
    iou: float = typer.Option(0.5, "--iou", min=0.01, max=1.0, help="IoU threshold of a hit."),
    duplicates: str = typer.Option("ignore", "--duplicates", help="ignore or false-positive."),
    bootstrap: int = typer.Option(2000, "--bootstrap", min=10, max=100_000, help="Bootstrap replicates."),
    seed: int = typer.Option(0, "--seed", help="Bootstrap seed."),
    alpha: float = ALPHA,
) -> None:
    """Detection version B against version A on the same images: lesion sensitivity at --fp-rate and the
    CPM, paired image bootstrap, non-inferiority verdicts (whole set and subgroups)."""
    with _errors():
        matcher = _matcher(rule, max_distance, iou, duplicates)
        boxes = rule == "iou"
        rows = read_rows(labels, "labels")
        truths = inputs_detection.read_lesions(rows, boxes=boxes,
                                               need_radius=not boxes and max_distance is None)
        ma = inputs_detection.read_marks(read_rows(outputs_a, "outputs_a"), truths, boxes=boxes)
        mb = inputs_detection.read_marks(read_rows(outputs_b, "outputs_b"), truths, boxes=boxes)
        if sum(t.count for t in truths.values()) == 0:
            raise ValidationFailed("A detection evaluation set needs at least one lesion.", field="labels")
        _print(report.detection_comparison_report(
            truths, ma, mb, matcher, duplicates=duplicates, rate=fp_rate, margin=margin, alpha=alpha,
            n_boot=bootstrap, seed=seed, groups=_image_groups(rows, split_cols(subgroup_cols)) or None,
            min_subgroup=1))
