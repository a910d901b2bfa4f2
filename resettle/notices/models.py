"""Notices (通知书): numbered yearly per type, archived as PDF bytes with their SHA-256."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from resettle.db import UTCDateTime, str_enum, utcnow
from resettle.documents.models import ArchivedDocument
from resettle.extensions import db


class NoticeType(enum.StrEnum):
    SIGNING = "signing"  # 签约催告
    VACATING = "vacating"  # 腾空交房通知
    SELECTION = "selection"  # 选房通知
    HANDOVER = "handover"  # 交房通知
    ALLOWANCE = "allowance"  # 过渡费发放通知 (reserved for the funds work: no template yet)
    SUPERVISION = "supervision"  # 督办单


class Notice(db.Model):
    """One issued notice: its number (文号), check code, what it said, and where it is archived."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[NoticeType] = mapped_column(str_enum(NoticeType, "notice_type"))
    year: Mapped[int]
    sequence: Mapped[int]
    number: Mapped[str] = mapped_column(sa.String(60), unique=True)
    check_code: Mapped[str] = mapped_column(sa.String(12))
    household_id: Mapped[int | None] = mapped_column(sa.ForeignKey("households.id"), index=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("notice_documents.id"), index=True)
    first_page: Mapped[int] = mapped_column(default=1)
    page_count: Mapped[int] = mapped_column(default=1)
    issued_on: Mapped[date]
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # What the notice said, as plain data (no full ID number): for the notice page and /verify.
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    # Voided (作废) by a supervisor or an admin, with the reason: the notice stays archived and
    # verifies as voided.
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    void_reason: Mapped[str | None] = mapped_column(sa.Text)

    document: Mapped[ArchivedDocument] = relationship(back_populates="notices")
    household = relationship("Household")
    issued_by = relationship("User", foreign_keys=[issued_by_id])
    voided_by = relationship("User", foreign_keys=[voided_by_id])

    __table_args__ = (
        sa.UniqueConstraint("type", "year", "sequence", name="uq_notices_type_year_sequence"),
        sa.CheckConstraint("sequence > 0", name="sequence_positive"),
        sa.CheckConstraint("first_page > 0 AND page_count > 0", name="pages_positive"),
        # Voided with a reason that is not blank, or not voided at all. (`void_reason IS NOT
        # NULL` is needed: a CHECK whose expression is NULL passes, as length(trim(NULL)) is.)
        sa.CheckConstraint(
            "(voided_at IS NULL AND void_reason IS NULL AND voided_by_id IS NULL)"
            " OR (voided_at IS NOT NULL AND void_reason IS NOT NULL"
            " AND length(trim(void_reason)) > 0)",
            name="void_has_reason",
        ),
    )

    @property
    def is_void(self) -> bool:
        return self.voided_at is not None

    @property
    def sha256(self) -> str:
        """The SHA-256 of the archived PDF this notice is in."""
        return self.document.sha256

    @property
    def in_batch(self) -> bool:
        return self.document.notice_count > 1
