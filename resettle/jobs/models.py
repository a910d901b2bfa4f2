"""A background job: what it makes, for whom, in which project, and how far it has got."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from resettle.db import UTCDateTime, str_enum, utcnow
from resettle.extensions import db


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Job(db.Model):
    """One piece of long work. Its address carries a random token (uuid4 hex), not the id;
    access is decided by the job's owner and project, never by knowing the address."""

    __tablename__ = "jobs"
    # Progress and the heartbeat live in the queue's storage (queue.py), not here: a batch
    # holds SQLite's write lock while it numbers, and a progress row would wait behind it.

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(32), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    title: Mapped[str] = mapped_column(sa.String(300))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    # The project the job's data belongs to; None for work over every project the account
    # sees (a list without a project filter, made within the account's scope) or above
    # projects (a backup, which only an administrator starts).
    project_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("expropriation_projects.id"), index=True
    )
    state: Mapped[JobState] = mapped_column(
        str_enum(JobState, "job_state"), default=JobState.QUEUED
    )
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    attempts: Mapped[int] = mapped_column(default=0)
    message: Mapped[str | None] = mapped_column(sa.Text)
    # What the job made: a file under JOB_FILES_DIR (its name there, the name to download
    # it as, type, size, SHA-256, checked on every download).
    file_path: Mapped[str | None] = mapped_column(sa.String(300))
    file_name: Mapped[str | None] = mapped_column(sa.String(200))
    file_type: Mapped[str | None] = mapped_column(sa.String(100))
    file_size: Mapped[int | None]
    file_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    # Or a page of the application: {"endpoint": ..., "args": {...}}, made into an address
    # when shown (an archived notice batch lives in the database, not in a file).
    result: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    worker: Mapped[str | None] = mapped_column(sa.String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def finished(self) -> bool:
        return self.state in (JobState.DONE, JobState.FAILED)
