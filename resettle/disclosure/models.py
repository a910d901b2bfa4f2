"""Disclosures (公示): frozen snapshots of chosen data, published for a period."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from resettle.db import UTCDateTime, str_enum, utcnow
from resettle.extensions import db


class DisclosureKind(enum.StrEnum):
    SURVEY = "survey"  # 调查登记结果
    COMPENSATION = "compensation"  # 分户补偿情况
    SELECTION = "selection"  # 选房结果


class DisclosureStatus(enum.StrEnum):
    DRAFT = "draft"  # prepared by a caseworker, snapshot taken, waiting for approval
    PUBLISHED = "published"  # approved by the supervision office: public during its period
    WITHDRAWN = "withdrawn"  # taken down: the public page shows a notice of withdrawal


class Disclosure(db.Model):
    """One disclosure: what was published, for which period, prepared and approved by whom.

    `rows` is the snapshot: plain dicts built from the public allowlist only
    (resettle/disclosure/services.py), frozen when the disclosure is prepared. The public pages show
    these rows, never live data.
    """

    __tablename__ = "disclosures"
    # The rows can be long; the audit trail records their SHA-256 instead.
    __audit_skip__ = frozenset({"rows"})

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("expropriation_projects.id"), index=True)
    kind: Mapped[DisclosureKind] = mapped_column(str_enum(DisclosureKind, "disclosure_kind"))
    title: Mapped[str] = mapped_column(sa.String(200))
    period_start: Mapped[date]
    period_end: Mapped[date]
    status: Mapped[DisclosureStatus] = mapped_column(
        str_enum(DisclosureStatus, "disclosure_status"), default=DisclosureStatus.DRAFT
    )
    rows: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list, deferred=True)
    row_count: Mapped[int] = mapped_column(default=0)
    snapshot_sha256: Mapped[str] = mapped_column(sa.String(64))
    snapshot_as_of: Mapped[date]
    prepared_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    prepared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawal_reason: Mapped[str | None] = mapped_column(sa.Text)
    version_id: Mapped[int] = mapped_column(default=1)

    project = relationship("ExpropriationProject")
    prepared_by = relationship("User", foreign_keys=[prepared_by_id])
    approved_by = relationship("User", foreign_keys=[approved_by_id])
    withdrawn_by = relationship("User", foreign_keys=[withdrawn_by_id])

    __mapper_args__ = {"version_id_col": version_id}
    __table_args__ = (
        sa.Index("ix_disclosures_project_status", "project_id", "status"),
        sa.CheckConstraint("period_end >= period_start", name="period_order"),
        sa.CheckConstraint("row_count >= 0", name="row_count_nonneg"),
        sa.CheckConstraint(
            "approved_by_id IS NULL OR approved_by_id <> prepared_by_id",
            name="approver_is_not_preparer",
        ),
        sa.CheckConstraint(
            "(withdrawn_at IS NULL) = (withdrawal_reason IS NULL)", name="withdrawal_has_reason"
        ),
        sa.CheckConstraint(
            "status = 'draft' OR approved_by_id IS NOT NULL", name="approved_before_publishing"
        ),
        sa.CheckConstraint("length(snapshot_sha256) = 64", name="sha256_length"),
        sa.CheckConstraint(
            "status NOT IN ('published', 'withdrawn') OR published_at IS NOT NULL",
            name="published_has_time",
        ),
        sa.CheckConstraint(
            "(status = 'withdrawn') = (withdrawn_at IS NOT NULL)", name="withdrawn_has_time"
        ),
    )

    def __repr__(self) -> str:
        return f"<Disclosure {self.id} {self.kind} {self.status}>"


class DisclosurePdf(db.Model):
    """A published disclosure's PDF, rendered once (a job started on publishing) and served as
    stored to every visitor: the public route never renders."""

    __tablename__ = "disclosure_pdfs"
    __audit_skip__ = frozenset({"pdf"})  # the bytes stay out of the audit trail; sha256 is in

    disclosure_id: Mapped[int] = mapped_column(
        sa.ForeignKey("disclosures.id", ondelete="CASCADE"), primary_key=True
    )
    pdf: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int]
    rendered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rendered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    __table_args__ = (
        sa.CheckConstraint("size > 0", name="size_positive"),
        sa.CheckConstraint("length(sha256) = 64", name="sha256_length"),
    )
