"""Tables of the expert pool (专家库) and of expert assignments (CMDE Notice 2025 No.7, ch.3-4)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from medreg.core.accounts import Organisation, User
from medreg.core.clock import utcnow
from medreg.core.db import Base


class Opinion(enum.StrEnum):
    """CMDE Art.17: an expert's opinion is 'agree' (同意) or 'disagree' (不同意)."""

    AGREE = "agree"
    DISAGREE = "disagree"


class Expert(Base):
    __tablename__ = "expert"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(120))  # e.g. 主任医师, 教授 (CMDE Art.9(2))
    senior_title: Mapped[bool] = mapped_column(default=True)  # 高级专业技术职称或者同等专业水平
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    fields: Mapped[list] = mapped_column(JSON, default=list)  # fields of expertise (CMDE Art.9(2))
    birth_year: Mapped[int]
    age_exempt: Mapped[bool] = mapped_column(default=False)  # 资深专家、两院院士 (CMDE Art.9(5))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")
    organisation: Mapped[Organisation | None] = relationship(lazy="joined")
    interests: Mapped[list[DeclaredInterest]] = relationship(
        back_populates="expert", order_by="DeclaredInterest.id", lazy="selectin"
    )


class DeclaredInterest(Base):
    """An interest the expert declared (CMDE Art.10): the basis of conflict-of-interest checks."""

    __tablename__ = "expert_interest"

    id: Mapped[int] = mapped_column(primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("expert.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # rules.InterestKind
    description: Mapped[str] = mapped_column(Text, default="")
    since: Mapped[date | None]
    until: Mapped[date | None]
    declared_at: Mapped[datetime] = mapped_column(default=utcnow)

    expert: Mapped[Expert] = relationship(back_populates="interests")


class ExpertAssignment(Base):
    """One expert on one innovative application, with the signed opinion (CMDE Art.17)."""

    __tablename__ = "expert_assignment"
    __table_args__ = (UniqueConstraint("application_id", "expert_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("innovation_application.id"), index=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("expert.id"), index=True)
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
    assigned_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    is_leader: Mapped[bool] = mapped_column(default=False)  # 专家组组长 (CMDE Art.8, Art.17)
    opinion: Mapped[str | None] = mapped_column(String(16))
    reasoning: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None]
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("electronic_signature.id"))

    expert: Mapped[Expert] = relationship(lazy="joined")
