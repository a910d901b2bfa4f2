"""Users and their roles."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from resettle.db import UTCDateTime, str_enum, utcnow
from resettle.extensions import db


class Role(enum.StrEnum):
    ADMIN = "admin"
    CASEWORKER = "caseworker"
    SUPERVISOR = "supervisor"
    LEADER = "leader"


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __audit_redact__ = frozenset({"password_hash", "totp_secret"})
    # A session token is a secret, and its changes are audited as what caused them (logout...).
    __audit_skip__ = frozenset(
        {"failed_logins", "last_login_at", "session_token", "totp_last_step"}
    )

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
    # A password set by someone else (a new account, a reset) is changed at the next login.
    must_change_password: Mapped[bool] = mapped_column(default=False)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The projects (片区) the account works in; with all_projects every one (admins always).
    all_projects: Mapped[bool] = mapped_column(default=False)
    # Every session of the account carries this token; a new one ends them all at once.
    session_token: Mapped[str] = mapped_column(sa.String(64), default=lambda: secrets.token_hex(16))
    # The second factor (resettle.auth.mfa): the TOTP secret, encrypted with a key derived from
    # SECRET_KEY (None: not enrolled), and the last time step accepted, so a code is used once.
    totp_secret: Mapped[str | None] = mapped_column(sa.String(255))
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)

    __table_args__ = (sa.CheckConstraint("failed_logins >= 0", name="failed_logins_nonneg"),)

    project_links = relationship(
        "UserProject", cascade="all, delete-orphan", passive_deletes=True, lazy="selectin"
    )

    @property
    def sees_every_project(self) -> bool:
        """Admins, and accounts the admin gave every project (the district's supervision office,
        leaders), are bounded by no project."""
        return self.role == Role.ADMIN or self.all_projects

    @property
    def project_ids(self) -> frozenset[int]:
        """The ids of the projects this account is given (ignoring `sees_every_project`)."""
        return frozenset(link.project_id for link in self.project_links)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def get_id(self) -> str:
        """What a session names this account by (Flask-Login): the id and the session token,
        so that a new token refuses every session made before it."""
        return f"{self.id}.{self.session_token}"

    def end_sessions(self) -> None:
        """End every session of this account, on every browser and machine."""
        self.session_token = secrets.token_hex(16)

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


# DEMO-ADMIN is demo-admin: usernames are unique whatever their case.
sa.Index("uq_users_username_lower", sa.func.lower(User.username), unique=True)


class PasswordHistory(db.Model):
    """A password an account had (its hash), so that the last ones are not chosen again."""

    __tablename__ = "password_history"
    __audit_redact__ = frozenset({"password_hash"})

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RecoveryCode(db.Model):
    """A single-use code that stands in for the authenticator app; only its SHA-256 is kept
    (the code carries 50 random bits, so no slow hash is needed), and it is deleted when used."""

    __tablename__ = "recovery_codes"
    __audit_redact__ = frozenset({"code_hash"})

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UserProject(db.Model):
    """A project (片区) a staff account works in: it sees and changes only these projects'
    records (unless it sees every project)."""

    __tablename__ = "user_projects"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("expropriation_projects.id", ondelete="CASCADE"), primary_key=True, index=True
    )
