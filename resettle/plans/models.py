"""Plans (计划) of projects and estates, their nodes and links, and the local working calendar."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from resettle.db import Money, UTCDateTime, str_enum, utcnow
from resettle.extensions import db
from resettle.households.models import Stage


class PlanKind(enum.StrEnum):
    PROJECT = "project"  # an expropriation project's plan: decision to clean land
    SITE = "site"  # a resettlement estate's plan: siting to handover


class CalendarDay(db.Model):
    """A day an admin entered: a local non-working or extra working day, or official data
    (holidays and 调休 working days) for a year the holiday package does not cover yet."""

    __tablename__ = "calendar_days"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(unique=True)
    working: Mapped[bool]
    official: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str | None] = mapped_column(sa.String(100))


class OfficialYear(db.Model):
    """A year whose State Council holiday schedule an admin has entered completely."""

    __tablename__ = "official_years"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str | None] = mapped_column(sa.String(200))

    __table_args__ = (sa.CheckConstraint("year BETWEEN 2004 AND 2100", name="year_range"),)


class Plan(db.Model):
    """A network of nodes scheduled backwards from its owner's promised date.

    A template (`is_template`) has no owner; new plans are copied from it.
    """

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[PlanKind] = mapped_column(str_enum(PlanKind, "plan_kind"))
    name: Mapped[str] = mapped_column(sa.String(200))
    is_template: Mapped[bool] = mapped_column(default=False)
    project_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("expropriation_projects.id"), unique=True
    )
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("resettlement_sites.id"), unique=True)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    schedule_error: Mapped[str | None] = mapped_column(sa.String(300))
    version_id: Mapped[int] = mapped_column(default=1)

    nodes: Mapped[list[PlanNode]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanNode.position"
    )
    project = relationship("ExpropriationProject")
    site = relationship("ResettlementSite")

    __mapper_args__ = {"version_id_col": version_id}
    __table_args__ = (
        sa.CheckConstraint(
            "(is_template AND project_id IS NULL AND site_id IS NULL)"
            " OR (NOT is_template AND kind = 'project' AND project_id IS NOT NULL AND site_id IS NULL)"
            " OR (NOT is_template AND kind = 'site' AND site_id IS NOT NULL AND project_id IS NULL)",
            name="owner_matches_kind",
        ),
    )


class PlanNode(db.Model):
    """One node of a plan with its responsibility (责任图) and its computed dates."""

    __tablename__ = "plan_nodes"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plans.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(40))
    name: Mapped[str] = mapped_column(sa.String(100))
    position: Mapped[int] = mapped_column(default=0)
    duration: Mapped[int]
    responsible_unit: Mapped[str | None] = mapped_column(sa.String(100))
    responsible_person: Mapped[str | None] = mapped_column(sa.String(64))
    leader: Mapped[str | None] = mapped_column(sa.String(64))
    stage: Mapped[Stage | None] = mapped_column(str_enum(Stage, "plan_node_stage"))
    # Money paid when the node finishes (a construction or demolition contract instalment).
    payment_amount: Mapped[Decimal | None] = mapped_column(Money)
    actual_start: Mapped[date | None]
    actual_finish: Mapped[date | None]
    # Results of the last scheduling run (deadlines from the backward pass, forecast forward).
    planned_start: Mapped[date | None]
    planned_finish: Mapped[date | None]
    forecast_start: Mapped[date | None]
    forecast_finish: Mapped[date | None]
    slip: Mapped[int | None]
    critical: Mapped[bool] = mapped_column(default=False)
    provisional: Mapped[bool] = mapped_column(default=False)
    # The forecast counts through (or lies in) a year without official holiday data.
    forecast_provisional: Mapped[bool] = mapped_column(default=False)

    plan: Mapped[Plan] = relationship(back_populates="nodes")
    predecessors: Mapped[list[PlanLink]] = relationship(
        foreign_keys="PlanLink.successor_id",
        back_populates="successor",
        cascade="all, delete-orphan",
    )

    __table_args__ = (
        sa.UniqueConstraint("plan_id", "key", name="uq_plan_nodes_plan_key"),
        sa.CheckConstraint("duration >= 0", name="duration_nonneg"),
        sa.CheckConstraint("payment_amount IS NULL OR payment_amount >= 0", name="payment_nonneg"),
        sa.CheckConstraint(
            "actual_finish IS NULL OR actual_start IS NULL OR actual_finish >= actual_start",
            name="actual_order",
        ),
        sa.Index(
            "ix_plan_nodes_open_deadline",
            "responsible_unit",
            "planned_finish",
            sqlite_where=sa.text("actual_finish IS NULL"),
            postgresql_where=sa.text("actual_finish IS NULL"),
        ),
    )


class PlanLink(db.Model):
    """Finish-to-start: the successor starts at the earliest lag+1 working days after."""

    __tablename__ = "plan_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    predecessor_id: Mapped[int] = mapped_column(sa.ForeignKey("plan_nodes.id", ondelete="CASCADE"))
    successor_id: Mapped[int] = mapped_column(sa.ForeignKey("plan_nodes.id", ondelete="CASCADE"))
    lag: Mapped[int] = mapped_column(default=0)

    predecessor: Mapped[PlanNode] = relationship(foreign_keys=[predecessor_id])
    successor: Mapped[PlanNode] = relationship(
        foreign_keys=[successor_id], back_populates="predecessors"
    )

    __table_args__ = (
        sa.UniqueConstraint("predecessor_id", "successor_id", name="uq_plan_links_pair"),
        sa.CheckConstraint("lag >= 0", name="lag_nonneg"),
        sa.CheckConstraint("predecessor_id <> successor_id", name="not_self"),
    )
