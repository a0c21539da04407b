"""Pydantic shapes of the expert pool and of expert opinions (CMDE Notice 2025 No.7, Art.9-17)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from medreg.premarket.experts.models import Opinion
from medreg.premarket.experts.rules import InterestKind
from medreg.premarket.innovation.schemas import parse

__all__ = [
    "ExpertIn",
    "ExpertUpdate",
    "InterestIn",
    "OpinionIn",
    "ExpertRead",
    "CandidateRead",
    "AssignmentRead",
    "parse",
]


class ExpertIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    user_id: int
    name: str = Field(min_length=1, max_length=120)
    title: str = Field(min_length=1, max_length=120)
    senior_title: bool = True
    organisation_id: int | None = None
    fields: list[str] = Field(min_length=1, max_length=20)
    birth_year: int = Field(ge=1900, le=2010)
    age_exempt: bool = False
    active: bool = True

    @field_validator("fields")
    @classmethod
    def _fields(cls, v: list[str]) -> list[str]:
        out = sorted({f.strip() for f in v if f.strip()})
        if not out or any(len(f) > 100 for f in out):
            raise ValueError("give 1 to 20 fields of expertise, each up to 100 characters")
        return out

    @model_validator(mode="after")
    def _senior(self):
        # CMDE Art.9(2): 具有高级专业技术职称或者同等专业水平.
        if not self.senior_title:
            raise ValueError("a senior professional title (or equivalent) is required (CMDE Art.9(2))")
        return self


class ExpertUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str | None = Field(default=None, min_length=1, max_length=120)
    organisation_id: int | None = None
    fields: list[str] | None = Field(default=None, min_length=1, max_length=20)
    age_exempt: bool | None = None
    active: bool | None = None


class InterestIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    organisation_id: int
    kind: InterestKind
    description: str = Field(default="", max_length=2000)
    since: date | None = None
    until: date | None = None

    @model_validator(mode="after")
    def _dates(self):
        if self.since and self.until and self.until < self.since:
            raise ValueError("'until' is before 'since'")
        return self


class OpinionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    opinion: Opinion
    reasoning: str = Field(min_length=10, max_length=20000)


class ExpertRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    name: str
    title: str
    organisation_id: int | None
    fields: list[str]
    birth_year: int
    age_exempt: bool
    active: bool


class Problem(BaseModel):
    reason: str
    article: str


class CandidateRead(BaseModel):
    expert: ExpertRead
    eligible: bool
    conflicted: bool
    problems: list[Problem]
    conflicts: list[Problem]

    @property
    def selectable(self) -> bool:
        return self.eligible and not self.conflicted


class AssignmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    application_id: int
    expert_id: int
    is_leader: bool
    assigned_at: datetime
    opinion: str | None
    reasoning: str | None
    submitted_at: datetime | None
    signature_id: int | None
