"""Organisations, users, their roles, API tokens and login attempts (tables)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from medreg.core.clock import utcnow
from medreg.core.db import Base


class Role(enum.StrEnum):
    """Roles a user can hold. ``public`` is the anonymous visitor and is never stored."""

    REVIEWER = "reviewer"
    INSPECTOR = "inspector"
    MONITORING_CENTRE = "monitoring_centre"
    REGISTRANT = "registrant"
    HOSPITAL = "hospital"
    EXPERT = "expert"
    ADMIN = "admin"
    PUBLIC = "public"


class OrgKind(enum.StrEnum):
    REGULATOR_UNIT = "regulator_unit"  # NMPA departments, CMDE and its innovation review office
    PROVINCIAL_BUREAU = "provincial_bureau"  # 省级药品监督管理部门
    MONITORING_CENTRE = "monitoring_centre"  # national / provincial AE monitoring centres
    REGISTRANT = "registrant"  # 注册人 (manufacturers, applicants, their agents)
    HOSPITAL = "hospital"  # 使用单位
    EXPERT_SOCIETY = "expert_society"  # e.g. 中国生物医学工程学会


class Organisation(Base):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    name_en: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2), default="CN")  # ISO 3166-1 alpha-2
    province: Mapped[str | None] = mapped_column(String(32))  # for bureaus and domestic registrants
    unified_credit_code: Mapped[str | None] = mapped_column(String(18))  # 统一社会信用代码
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="organisation")

    @property
    def is_domestic(self) -> bool:
        return self.country == "CN"


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation | None] = relationship(back_populates="users", lazy="joined")
    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", back_populates="user"
    )

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(r.role for r in self.role_rows)


class UserRole(Base):
    __tablename__ = "user_role"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))

    user: Mapped[User] = relationship(back_populates="role_rows")


class ApiToken(Base):
    """Bearer tokens for the API. Only the SHA-256 of the token is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")


class LoginAttempt(Base):
    """Failed and successful logins, for rate limiting and for the security log."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_username_at", "username", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    client: Mapped[str | None] = mapped_column(String(64))
    succeeded: Mapped[bool]
    at: Mapped[datetime] = mapped_column(default=utcnow)
