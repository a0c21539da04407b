"""Request bodies and response shapes of the registration JSON API (``api.py``).

Every body forbids unknown fields, strips text, refuses NUL characters (PostgreSQL text cannot hold
them) and bounds ids to the integer columns' range, so that bad input is a 422 naming its field,
never a database error. Actions carry ``expected_version`` (optimistic locking).
"""

# No ``from __future__ import annotations``: FastAPI reads these classes at route definition.

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from medreg.core.deps import MAX_ID
from medreg.premarket.registration.rules import ConditionalGround
from medreg.premarket.registration.schemas import (
    ClockRead,
    ConditionIn,
    ConsultationCreate,
    ConsultationRead,
    ObligationRead,
    RegistrationCreate,
    RegistrationRead,
    RegistrationUpdate,
)


def _no_nul(value: Any) -> Any:
    """PostgreSQL text cannot hold NUL: refuse it here, as bad input."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("text cannot contain NUL characters")
    if isinstance(value, dict):
        for v in value.values():
            _no_nul(v)
    elif isinstance(value, list):
        for v in value:
            _no_nul(v)
    return value


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        return _no_nul(data)


class Versioned(Body):
    expected_version: int = Field(ge=1, le=MAX_ID, description="the version you saw")


def _text(**kw) -> Any:
    return Field(min_length=1, max_length=20_000, **kw)


class CreateBody(Body, RegistrationCreate):
    innovation_application_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    registration_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class UpdateBody(Versioned, RegistrationUpdate):
    pass


class NotesBody(Versioned):
    notes: str = _text()


class ReasonsBody(Versioned):
    reasons: str = _text()


class ReasonBody(Versioned):
    reason: str = _text()


class RequestBody(Versioned):
    request: str = _text()


class ObjectionBody(Versioned):
    objection: str = _text()


class AnswerBody(Versioned):
    answer: str = _text()


class SummaryBody(Versioned):
    summary: str = _text()


class ApproveBody(Versioned):
    password: str = Field(min_length=1, max_length=1024)
    reasons: str | None = Field(default=None, max_length=20_000)


class RefuseBody(Versioned):
    password: str = Field(min_length=1, max_length=1024)
    reasons: str = _text()


class ConditionalBody(Versioned):
    password: str = Field(min_length=1, max_length=1024)
    ground: ConditionalGround
    conditions: list[ConditionIn] = Field(min_length=1, max_length=50)
    valid_until: date | None = None
    reasons: str | None = Field(default=None, max_length=20_000)


class MeetingBody(Versioned):
    meeting_on: date
    details: str = _text()


class MinutesBody(Versioned):
    minutes: str = _text()


class FulfilBody(Versioned):
    evidence_file_id: int = Field(ge=1, le=MAX_ID)
    note: str | None = Field(default=None, max_length=20_000)


class ConsultationBody(Body, ConsultationCreate):
    innovation_application_id: int = Field(ge=1, le=MAX_ID)
    registration_application_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class ApplicationDetail(BaseModel):
    application: RegistrationRead
    clocks: list[ClockRead]
    allowed_actions: list[str]


class TimelineEvent(BaseModel):
    at: datetime  # Asia/Shanghai
    actor: str
    action: str
    note: str | None


class ObligationOut(ObligationRead):
    late: bool  # Order 47 Art.63: not fulfilled by its deadline (or fulfilled after it)


class ConsultationDetail(BaseModel):
    consultation: ConsultationRead
    clock: ClockRead | None


class DiBody(Body):
    """A UDI-DI of the certificate's product: a GTIN of 8, 12, 13 or 14 digits."""

    di: str = Field(min_length=8, max_length=14, pattern=r"^\d+$")


class DiWithdrawBody(Body):
    """Why a wrongly declared UDI-DI is withdrawn (kept in the audit trail)."""

    reason: str = Field(min_length=1, max_length=2000)
