"""Agreements (补偿协议): the household's agreement, and supplementary agreements after it."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from resettle.db import Money, UTCDateTime, str_enum, utcnow
from resettle.documents.models import ArchivedDocument
from resettle.extensions import db


class AgreementKind(enum.StrEnum):
    MONEY = "money_agreement"  # 货币补偿协议
    SWAP = "swap_agreement"  # 产权调换协议 (also a mixed case: a flat and some money)
    SUPPLEMENT = "supplement"  # 补充协议: a later change, never rewriting the first


class Agreement(db.Model):
    """One signed agreement as it was printed: number, check code, frozen figures, archive."""

    __tablename__ = "agreements"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[AgreementKind] = mapped_column(str_enum(AgreementKind, "agreement_kind"))
    year: Mapped[int]
    sequence: Mapped[int]
    number: Mapped[str] = mapped_column(sa.String(60), unique=True)
    check_code: Mapped[str] = mapped_column(sa.String(12))
    household_id: Mapped[int] = mapped_column(sa.ForeignKey("households.id"), index=True)
    # A supplementary agreement amends the household's agreement (and follows earlier ones).
    amends_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agreements.id"))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    rule_id: Mapped[int | None] = mapped_column(sa.ForeignKey("compensation_rules.id"))
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("notice_documents.id"), index=True)
    first_page: Mapped[int] = mapped_column(default=1)
    page_count: Mapped[int] = mapped_column(default=1)
    signed_on: Mapped[date]
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # The total agreed after this agreement (a supplement: the new total) and what is owed
    # before moving out (先补偿、后搬迁), both frozen; every figure printed is in `figures`.
    total: Mapped[Decimal] = mapped_column(Money)
    before_moving: Mapped[Decimal] = mapped_column(Money)
    figures: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    household = relationship("Household")
    document: Mapped[ArchivedDocument] = relationship()
    amends = relationship("Agreement", remote_side=[id])
    issued_by = relationship("User", foreign_keys=[issued_by_id])

    __table_args__ = (
        sa.UniqueConstraint("kind", "year", "sequence", name="uq_agreements_kind_year_sequence"),
        sa.CheckConstraint("sequence > 0", name="sequence_positive"),
        sa.CheckConstraint("first_page > 0 AND page_count > 0", name="pages_positive"),
        sa.CheckConstraint("before_moving >= 0", name="before_moving_nonneg"),
        sa.CheckConstraint(
            "(kind = 'supplement') = (amends_id IS NOT NULL)", name="supplement_amends"
        ),
        sa.CheckConstraint(
            "kind <> 'supplement' OR length(trim(reason)) > 0", name="supplement_has_reason"
        ),
        # One agreement per household; everything after it is a supplement.
        sa.Index(
            "uq_agreements_one_per_household",
            "household_id",
            unique=True,
            sqlite_where=sa.text("amends_id IS NULL"),
            postgresql_where=sa.text("amends_id IS NULL"),
        ),
    )

    @property
    def is_supplement(self) -> bool:
        return self.kind == AgreementKind.SUPPLEMENT

    @property
    def sha256(self) -> str:
        return self.document.sha256


def latest_agreement(household_id: int, *columns: Any) -> sa.Select:
    """The household's agreement in force: the latest of its agreement and supplements (its
    row, or the `columns` asked for). One query for every domain that needs it."""
    return (
        sa.select(*(columns or (Agreement,)))
        .where(Agreement.household_id == household_id)
        .order_by(Agreement.id.desc())
        .limit(1)
    )
