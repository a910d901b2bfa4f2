"""Households (被征收户), their members and their case steps."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from resettle.db import Area, Money, UTCDateTime, str_enum, utcnow
from resettle.extensions import db


class Stage(enum.StrEnum):
    """The case stages in order (DOMAIN.md, "Household stages")."""

    SURVEYED = "surveyed"
    APPRAISED = "appraised"
    SIGNED = "signed"
    VACATED = "vacated"
    DEMOLISHED = "demolished"
    SELECTED = "selected"
    HANDED_OVER = "handed_over"
    SETTLED = "settled"
    CLOSED = "closed"


class CompensationMode(enum.StrEnum):
    MONEY = "money"  # 货币补偿
    SWAP = "swap"  # 产权调换
    MIXED = "mixed"  # 货币 + 产权调换


class Household(db.Model):
    __tablename__ = "households"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("expropriation_projects.id"))
    case_number: Mapped[str] = mapped_column(sa.String(40), unique=True)
    head_name: Mapped[str] = mapped_column(sa.String(64))
    head_id_number: Mapped[str] = mapped_column(sa.String(18))
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    house_address: Mapped[str] = mapped_column(sa.String(300))
    legal_area: Mapped[Decimal] = mapped_column(Area)
    unregistered_area: Mapped[Decimal] = mapped_column(Area, default=Decimal("0.00"))
    house_use: Mapped[str] = mapped_column(sa.String(20), default="住宅")
    appraisal_unit_price: Mapped[Decimal | None] = mapped_column(Money)
    appraisal_value: Mapped[Decimal | None] = mapped_column(Money)
    # Decoration (装饰装修), appraised with the house.
    decoration_value: Mapped[Decimal | None] = mapped_column(Money)
    # The area used for business of a non-residential house (停产停业损失); blank: the legal area.
    business_area: Mapped[Decimal | None] = mapped_column(Area)
    # Of the unregistered area, what was found lawful (Decree 590 Art. 24) and is compensated.
    lawful_unregistered_area: Mapped[Decimal] = mapped_column(Area, default=Decimal("0.00"))
    # Why the household qualifies for the hardship subsidy (困难补助: 低保, 特困, 重残 ...); blank:
    # it does not.
    hardship: Mapped[str | None] = mapped_column(sa.String(20))
    compensation_mode: Mapped[CompensationMode | None] = mapped_column(
        str_enum(CompensationMode, "compensation_mode")
    )
    entitled_area: Mapped[Decimal | None] = mapped_column(Area)
    # The transition (过渡) of a swap household: None, self-arranged with the temporary
    # allowance; else the transit flat (周转房) the office lends it, and no allowance is paid.
    transit_flat: Mapped[str | None] = mapped_column(sa.String(200))
    selection_order: Mapped[int | None]
    stage: Mapped[Stage] = mapped_column(
        str_enum(Stage, "household_stage"), default=Stage.SURVEYED, index=True
    )
    note: Mapped[str | None] = mapped_column(sa.Text)
    caseworker_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    # The compensation rules the household signed under (set when signing is recorded).
    rule_id: Mapped[int | None] = mapped_column(sa.ForeignKey("compensation_rules.id"))
    version_id: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    project = relationship("ExpropriationProject", back_populates="households")
    members: Mapped[list[HouseholdMember]] = relationship(
        back_populates="household", cascade="all, delete-orphan", order_by="HouseholdMember.id"
    )
    steps: Mapped[list[CaseStep]] = relationship(
        back_populates="household", cascade="all, delete-orphan", order_by="CaseStep.id"
    )
    units = relationship("Unit", back_populates="household", order_by="Unit.id")
    payments = relationship("Payment", back_populates="household", order_by="Payment.paid_on")
    caseworker = relationship("User", foreign_keys=[caseworker_id])
    rule = relationship("CompensationRule")
    fixtures: Mapped[list[HouseholdFixture]] = relationship(
        back_populates="household", cascade="all, delete-orphan", order_by="HouseholdFixture.id"
    )
    adjustments: Mapped[list[HouseholdAdjustment]] = relationship(
        back_populates="household",
        cascade="all, delete-orphan",
        order_by="HouseholdAdjustment.id",
    )

    __mapper_args__ = {"version_id_col": version_id}
    __table_args__ = (
        sa.UniqueConstraint("project_id", "head_id_number", name="uq_households_project_head_id"),
        sa.UniqueConstraint("project_id", "selection_order", name="uq_households_project_order"),
        sa.Index("ix_households_project_stage", "project_id", "stage"),
        # A project's households in list order: a page of a bounded account reads 50 rows.
        sa.Index("ix_households_project_case", "project_id", "case_number"),
        sa.Index("ix_households_head_name", "head_name"),
        sa.Index("ix_households_head_id_number", "head_id_number"),
        sa.CheckConstraint("legal_area >= 0", name="legal_area_nonneg"),
        sa.CheckConstraint("unregistered_area >= 0", name="unregistered_area_nonneg"),
        sa.CheckConstraint("entitled_area IS NULL OR entitled_area >= 0", name="entitled_nonneg"),
        sa.CheckConstraint(
            "appraisal_unit_price IS NULL OR appraisal_unit_price >= 0", name="unit_price_nonneg"
        ),
        sa.CheckConstraint(
            "appraisal_value IS NULL OR appraisal_value >= 0", name="appraisal_value_nonneg"
        ),
        sa.CheckConstraint(
            "selection_order IS NULL OR selection_order > 0", name="selection_order_positive"
        ),
        sa.CheckConstraint(
            "decoration_value IS NULL OR decoration_value >= 0", name="decoration_value_nonneg"
        ),
        sa.CheckConstraint(
            "business_area IS NULL OR business_area >= 0", name="business_area_nonneg"
        ),
        sa.CheckConstraint(
            "lawful_unregistered_area >= 0 AND lawful_unregistered_area <= unregistered_area",
            name="lawful_within_unregistered",
        ),
    )

    def __repr__(self) -> str:
        return f"<Household {self.case_number}>"


class HouseholdMember(db.Model):
    __tablename__ = "household_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(
        sa.ForeignKey("households.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(64))
    relation: Mapped[str] = mapped_column(sa.String(20))
    id_number: Mapped[str | None] = mapped_column(sa.String(18))

    household: Mapped[Household] = relationship(back_populates="members")


class HouseholdFixture(db.Model):
    """How many of a price-list item (附属物/构筑物, 设施移装) a household has; priced by the
    price list of the rule version the household is compensated under."""

    __tablename__ = "household_fixtures"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(
        sa.ForeignKey("households.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(40))
    quantity: Mapped[Decimal] = mapped_column(Area)

    household: Mapped[Household] = relationship(back_populates="fixtures")

    @property
    def quantity_text(self) -> str:
        """3.00 → "3", 12.50 → "12.5", 100.00 → "100"."""
        return f"{self.quantity.normalize():f}"

    __table_args__ = (
        sa.UniqueConstraint("household_id", "name", name="uq_household_fixtures_household_name"),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
    )


class HouseholdAdjustment(db.Model):
    """A line the office decides case by case (其他补偿/扣减): a signed amount with its reason."""

    __tablename__ = "household_adjustments"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(
        sa.ForeignKey("households.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(sa.String(60))
    amount: Mapped[Decimal] = mapped_column(Money)  # negative: a deduction
    reason: Mapped[str] = mapped_column(sa.Text)
    added_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    household: Mapped[Household] = relationship(back_populates="adjustments")
    added_by = relationship("User")

    __table_args__ = (
        sa.CheckConstraint("amount <> 0", name="amount_nonzero"),
        sa.CheckConstraint("label <> '' AND reason <> ''", name="label_and_reason"),
    )


class CaseStep(db.Model):
    """One stage of one household: its deadline, when it actually happened and who recorded it."""

    __tablename__ = "case_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(sa.ForeignKey("households.id", ondelete="CASCADE"))
    stage: Mapped[Stage] = mapped_column(str_enum(Stage, "case_step_stage"))
    deadline: Mapped[date | None]
    actual_date: Mapped[date | None]
    operator_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(sa.Text)
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    household: Mapped[Household] = relationship(back_populates="steps")
    operator = relationship("User")

    __table_args__ = (
        sa.UniqueConstraint("household_id", "stage", name="uq_case_steps_household_stage"),
        # The overdue list reads open steps by deadline (PITFALLS.md: a partial index).
        sa.Index(
            "ix_case_steps_open_deadline",
            "deadline",
            sqlite_where=sa.text("actual_date IS NULL"),
            postgresql_where=sa.text("actual_date IS NULL"),
        ),
    )
