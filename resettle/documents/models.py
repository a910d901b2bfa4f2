"""What every numbered document shares: its number's counter and its archived PDF.

Notices, supervision orders and agreements are numbered by kind and year from one counter table
and archived as the PDF bytes they were issued as; each keeps its own row (Notice, Agreement)
next to its domain, pointing at the archived document it is printed in.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from resettle.db import UTCDateTime, utcnow
from resettle.extensions import db

if TYPE_CHECKING:
    from resettle.notices.models import Notice


class DocumentSequence(db.Model):
    """The last number given for a kind of document in a year (the row is locked while
    numbering). The kind is a notice type (signing, supervision, …) or an agreement kind."""

    __tablename__ = "notice_sequences"  # (named when only notices were numbered)

    type: Mapped[str] = mapped_column(sa.String(30), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)

    __table_args__ = (sa.CheckConstraint("last_number >= 0", name="last_number_nonneg"),)


class ArchivedDocument(db.Model):
    """An archived PDF exactly as it was issued: one document, or a batch of them.

    A reprint returns `pdf` as stored (never a new rendering: WeasyPrint writes the time into
    every PDF, so a new rendering would differ).
    """

    __tablename__ = "notice_documents"  # (named when only notices were archived)
    __audit_skip__ = frozenset({"pdf"})  # the bytes stay out of the audit trail; sha256 is in

    id: Mapped[int] = mapped_column(primary_key=True)
    pdf: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    size: Mapped[int]
    pages: Mapped[int]
    notice_count: Mapped[int]  # how many documents (notices, agreements) it holds
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    notices: Mapped[list[Notice]] = relationship(
        back_populates="document", order_by="Notice.first_page"
    )

    __table_args__ = (
        sa.CheckConstraint("size > 0", name="size_positive"),
        sa.CheckConstraint("pages > 0", name="pages_positive"),
        sa.CheckConstraint("notice_count > 0", name="notice_count_positive"),
    )
