"""Money actually paid out (Payment). Plans and sources come with the funds work."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from resettle.db import Money, UTCDateTime, str_enum, utcnow
from resettle.extensions import db


class PaymentKind(enum.StrEnum):
    COMPENSATION = "compensation"  # 征收补偿款
    MOVING_ALLOWANCE = "moving_allowance"  # 搬迁费
    TEMPORARY_ALLOWANCE = "temporary_allowance"  # 临时安置费 / 过渡费
    BONUS = "bonus"  # 签约奖励
    SETTLEMENT = "settlement"  # 差价结算
    OTHER = "other"


class Payment(db.Model):
    """One payment with its voucher; reversed with a reason, never deleted."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(sa.ForeignKey("households.id"), index=True)
    kind: Mapped[PaymentKind] = mapped_column(str_enum(PaymentKind, "payment_kind"))
    amount: Mapped[Decimal] = mapped_column(Money)
    paid_on: Mapped[date]
    voucher_number: Mapped[str] = mapped_column(sa.String(60), unique=True)
    payee: Mapped[str] = mapped_column(sa.String(100))
    note: Mapped[str | None] = mapped_column(sa.Text)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reversed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reversal_reason: Mapped[str | None] = mapped_column(sa.Text)

    household = relationship("Household", back_populates="payments")

    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint(
            "(reversed_at IS NULL) = (reversal_reason IS NULL)", name="reversal_has_reason"
        ),
    )

    @property
    def is_reversed(self) -> bool:
        return self.reversed_at is not None
