"""Money: compensation rules (versioned), fund sources, and payments actually made."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from resettle.db import Money, UTCDateTime, str_enum, utcnow
from resettle.extensions import db
from resettle.translate import lazy_gettext as _l


class PaymentKind(enum.StrEnum):
    COMPENSATION = "compensation"  # 征收补偿款
    MOVING_ALLOWANCE = "moving_allowance"  # 搬迁费
    TEMPORARY_ALLOWANCE = "temporary_allowance"  # 临时安置费 / 过渡费
    BONUS = "bonus"  # 签约奖励
    SETTLEMENT = "settlement"  # 差价结算
    OTHER = "other"
    RECEIPT = "receipt"  # 收款: the household pays in (a larger flat's price difference, a refund)


#: The kinds of money that come in from a household; every other kind goes out to it.
INCOMING_KINDS = frozenset({PaymentKind.RECEIPT})


class Payment(db.Model):
    """One payment with its voucher; reversed with a reason, never deleted."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int | None] = mapped_column(sa.ForeignKey("households.id"), index=True)
    # A contractor's instalment for a plan node (demolition, construction) instead of a household
    plan_node_id: Mapped[int | None] = mapped_column(sa.ForeignKey("plan_nodes.id"), index=True)
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
        sa.CheckConstraint(
            "(household_id IS NULL) <> (plan_node_id IS NULL)", name="household_or_node"
        ),
    )

    @property
    def is_reversed(self) -> bool:
        return self.reversed_at is not None

    @hybrid_property
    def signed_amount(self) -> Decimal:
        """The amount as it moves the household's balance: paid out positive, received negative."""
        return -self.amount if self.kind in INCOMING_KINDS else self.amount

    @signed_amount.inplace.expression
    @classmethod
    def _signed_amount(cls) -> sa.ColumnElement[Decimal]:
        return sa.case(
            (cls.kind.in_([k.value for k in INCOMING_KINDS]), -cls.amount), else_=cls.amount
        )


class MonthCounting(enum.StrEnum):
    STARTED = "started"  # a started month counts as a whole month
    WHOLE = "whole"  # only completed months count


class BusinessLossMethod(enum.StrEnum):
    """How a rule compensates the loss of business of a non-residential house (停产停业损失)."""

    SHARE = "share"  # a share (percent) of the house value
    MONTHLY = "monthly"  # months × a rate per m² per month of the area used for business


BUSINESS_LOSS_METHOD_LABELS = {
    BusinessLossMethod.SHARE: _l("a share of the house value"),
    BusinessLossMethod.MONTHLY: _l("months × a monthly rate per m²"),
}


class CompensationRule(db.Model):
    """One version of a project's compensation rules; households keep the version they signed."""

    __tablename__ = "compensation_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("expropriation_projects.id"))
    version: Mapped[int]
    effective_from: Mapped[date]
    moving_allowance_per_m2: Mapped[Decimal] = mapped_column(Money)
    temporary_allowance_per_m2_month: Mapped[Decimal] = mapped_column(Money)
    month_counting: Mapped[MonthCounting] = mapped_column(
        str_enum(MonthCounting, "month_counting"), default=MonthCounting.STARTED
    )
    signing_bonus: Mapped[Decimal] = mapped_column(Money)
    # Price of the new flat per m² for a property swap: within the entitled area, the first
    # extra band of `band_m2`, and beyond it.
    price_within_entitled: Mapped[Decimal] = mapped_column(Money)
    band_m2: Mapped[Decimal] = mapped_column(Money)
    price_first_band: Mapped[Decimal] = mapped_column(Money)
    price_beyond_band: Mapped[Decimal] = mapped_column(Money)
    # Transition months past the period are paid with a multiplier, in tiers:
    # "1:2" = ×2 from the first overdue month; "1:1.5,7:2" = ×1.5 from the 1st, ×2 from the 7th.
    overrun_tiers: Mapped[str] = mapped_column(sa.String(100), default="1:2")
    compensation_due_days: Mapped[int] = mapped_column(default=15)
    # What else decides what a household is owed, fixed with the version (taken from the project
    # when the version is made): the signing window of the signing bonus and the transition
    # period. A household keeps the version it signed under, so a later change is not its.
    signing_start: Mapped[date | None]
    signing_end: Mapped[date | None]
    transition_months: Mapped[int | None]
    # Signing rewards in tiers by the signing date ("2025-03-31:30000,2025-04-30:20000": signed
    # on or before a date, that amount; the first matching tier applies). Empty: the single
    # `signing_bonus` inside the signing window.
    signing_reward_tiers: Mapped[str] = mapped_column(sa.String(300), default="")
    # The moving bonus (搬迁奖励) in tiers by the vacating date, written the same way.
    moving_bonus_tiers: Mapped[str] = mapped_column(sa.String(300), default="")
    # Business-loss compensation (停产停业损失) of a non-residential house; none without a method.
    business_loss_method: Mapped[BusinessLossMethod | None] = mapped_column(
        str_enum(BusinessLossMethod, "business_loss_method")
    )
    business_loss_percent: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    business_loss_months: Mapped[int | None]
    business_loss_per_m2_month: Mapped[Decimal | None] = mapped_column(Money)
    # Unregistered buildings found lawful (Decree 590 Art. 24), per m² of the area found lawful.
    lawful_unregistered_per_m2: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    # Hardship subsidy (困难补助) per qualifying household.
    hardship_subsidy: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    note: Mapped[str | None] = mapped_column(sa.String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    project = relationship("ExpropriationProject")
    # The version's price list of fixtures and relocations (附属物/构筑物, 设施移装).
    price_items: Mapped[list[RulePriceItem]] = relationship(
        back_populates="rule", cascade="all, delete-orphan", order_by="RulePriceItem.id"
    )

    __table_args__ = (
        sa.UniqueConstraint("project_id", "version", name="uq_compensation_rules_project_version"),
        sa.CheckConstraint("version > 0", name="version_positive"),
        sa.CheckConstraint(
            "moving_allowance_per_m2 >= 0 AND temporary_allowance_per_m2_month >= 0"
            " AND signing_bonus >= 0 AND price_within_entitled >= 0 AND band_m2 >= 0"
            " AND price_first_band >= 0 AND price_beyond_band >= 0",
            name="amounts_nonneg",
        ),
        sa.CheckConstraint("compensation_due_days >= 0", name="due_days_nonneg"),
        sa.CheckConstraint(
            "lawful_unregistered_per_m2 >= 0 AND hardship_subsidy >= 0", name="items_nonneg"
        ),
        sa.CheckConstraint(
            "business_loss_method IS NULL"
            " OR (business_loss_method = 'share' AND business_loss_percent IS NOT NULL"
            " AND business_loss_percent > 0 AND business_loss_percent <= 100)"
            " OR (business_loss_method = 'monthly' AND business_loss_months IS NOT NULL"
            " AND business_loss_months > 0 AND business_loss_per_m2_month IS NOT NULL"
            " AND business_loss_per_m2_month >= 0)",
            name="business_loss_terms",
        ),
    )


class RulePriceItem(db.Model):
    """One entry of a rule version's price list: a fixture or relocation with its unit price."""

    __tablename__ = "rule_price_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(
        sa.ForeignKey("compensation_rules.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(40))
    unit: Mapped[str] = mapped_column(sa.String(20))
    price: Mapped[Decimal] = mapped_column(Money)

    rule: Mapped[CompensationRule] = relationship(back_populates="price_items")

    __table_args__ = (
        sa.UniqueConstraint("rule_id", "name", name="uq_rule_price_items_rule_name"),
        sa.CheckConstraint("price >= 0", name="price_nonneg"),
        sa.CheckConstraint("name <> '' AND unit <> ''", name="named"),
    )


class SourceKind(enum.StrEnum):
    FISCAL = "fiscal"  # 财政拨款
    SPECIAL_BOND = "special_bond"  # 专项债
    PLATFORM = "platform"  # 平台公司
    OTHER = "other"


class FundSource(db.Model):
    """Money that becomes available to a project on a date."""

    __tablename__ = "fund_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("expropriation_projects.id"), index=True)
    kind: Mapped[SourceKind] = mapped_column(str_enum(SourceKind, "source_kind"))
    name: Mapped[str] = mapped_column(sa.String(100))
    amount: Mapped[Decimal] = mapped_column(Money)
    available_on: Mapped[date]
    note: Mapped[str | None] = mapped_column(sa.String(300))

    __table_args__ = (sa.CheckConstraint("amount > 0", name="amount_positive"),)
