"""Pydantic shapes of the AI domain: what callers send and what they may read.

No read shape has a label field: labels never leave ``service`` scoring code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from medreg.core.db import MAX_ID

CODE_PATTERN = r"^[A-Z0-9][A-Z0-9_.-]{1,39}$"
MAX_CASES = 100_000


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class DatabaseCreate(_In):
    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    task: Literal["binary", "multiclass", "detection"]
    modality: str = Field(min_length=1, max_length=60)
    description: str | None = Field(default=None, max_length=5000)


MAX_LESIONS = 100
MAX_MARKS = 100


class CaseIn(_In):
    """A case: ``label`` for binary and multiclass tasks; ``lesions`` for detection tasks (each lesion
    ``[x, y, radius]``/``[x, y, z, radius]`` under the centre rule, ``[x0, y0, x1, y1]`` under IoU; an
    empty list is an image without lesion)."""

    case_id: str = Field(min_length=1, max_length=128)
    label: str | None = Field(default=None, min_length=1, max_length=64)
    lesions: list[list[float]] | None = Field(default=None, max_length=MAX_LESIONS)
    metadata: dict[str, str] = Field(default_factory=dict)


class MatchingIn(_In):
    """The stated matching rule of a detection version (public; see medreg.ai.detection)."""

    rule: Literal["centre", "iou"] = "centre"
    dims: Literal[2, 3] = 2  # centre rule: coordinates per location
    max_distance: float | None = Field(default=None, gt=0, le=1e6)  # centre rule: else the lesion radius
    iou: float = Field(default=0.5, gt=0, le=1)
    duplicates: Literal["ignore", "false-positive"] = "ignore"


class VersionCreate(_In):
    provenance: str = Field(min_length=1, max_length=5000)
    metadata_fields: list[str] = Field(default_factory=list, max_length=20)
    categories: list[str] | None = Field(default=None, min_length=2, max_length=50)
    matching: MatchingIn | None = None  # detection tasks only
    cases: list[CaseIn] = Field(min_length=4, max_length=MAX_CASES)


class Platform(_In):
    hardware: str = Field(min_length=1, max_length=200)
    os: str = Field(min_length=1, max_length=120)
    accelerator: str = Field(default="none", max_length=120)
    framework: str = Field(min_length=1, max_length=120)


class MarkIn(_In):
    """A detection mark: a location (centre ``[x, y(, z)]`` or box ``[x0, y0, x1, y1]``) and a score."""

    location: list[float] = Field(min_length=2, max_length=4)
    score: float


class OutputIn(_In):
    case_id: str = Field(min_length=1, max_length=128)
    score: float | None = None
    output_class: str | None = Field(default=None, alias="class", max_length=64)
    marks: list[MarkIn] | None = Field(default=None, max_length=MAX_MARKS)  # detection tasks

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)


class RunSubmit(_In):
    algorithm_name: str = Field(min_length=1, max_length=120)
    algorithm_version: str = Field(min_length=1, max_length=60)
    platform: Platform
    threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    outputs: list[OutputIn] = Field(min_length=1, max_length=MAX_CASES)

    @field_validator("threshold")
    @classmethod
    def _finite(cls, v: float) -> float:
        if v != v:  # NaN
            raise ValueError("must be a number")
        return v


class DatabaseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    task: str
    modality: str
    description: str | None
    created_at: datetime


class VersionRead(BaseModel):
    """Public facts of a version: no label, no per-case metadata, no salt."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    database_id: int
    number: int
    provenance: str
    n_cases: int
    categories: list[str] | None
    matching: dict | None = None
    metadata_fields: list[str]
    merkle_root: str
    created_at: datetime


class RunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    version_id: int
    organisation_id: int
    algorithm_name: str
    algorithm_version: str
    platform: dict
    threshold: float
    outputs_sha256: str
    metrics: dict
    code_version: str
    result_sha256: str
    signature: str
    created_at: datetime


class EvidenceCreate(_In):
    kind: Literal["version_change", "platform_equivalence"]
    run_a: int = Field(ge=1, le=MAX_ID)
    run_b: int = Field(ge=1, le=MAX_ID)
    changes: list[str] = Field(min_length=1, max_length=30)
    registration_reference: str | None = Field(default=None, max_length=64)
    margin: float = Field(default=0.05, gt=0, lt=1)
    score_margin: float = Field(default=0.05, gt=0, lt=1)
    metric_margin: float = Field(default=0.02, gt=0, lt=1)
    fp_rate: float = Field(default=1.0, gt=0, le=100)  # detection: FP per image compared


class EvidenceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    organisation_id: int
    kind: str
    run_a_id: int
    run_b_id: int
    changes: list[str]
    evidence: dict
    decision: dict
    report: dict
    registration_reference: str | None
    pack_sha256: str
    signature: str
    created_at: datetime
