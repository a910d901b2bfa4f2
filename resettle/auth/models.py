"""Users and their roles."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column

from resettle.db import UTCDateTime, str_enum, utcnow
from resettle.extensions import db


class Role(enum.StrEnum):
    ADMIN = "admin"
    CASEWORKER = "caseworker"
    SUPERVISOR = "supervisor"
    LEADER = "leader"


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __audit_redact__ = frozenset({"password_hash"})
    __audit_skip__ = frozenset({"failed_logins", "last_login_at"})

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(64))
    role: Mapped[Role] = mapped_column(str_enum(Role, "user_role"))
    unit_name: Mapped[str | None] = mapped_column(sa.String(100))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True)
    is_demo: Mapped[bool] = mapped_column(default=False)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.CheckConstraint("failed_logins >= 0", name="failed_logins_nonneg"),)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"
