"""Supervision orders (督办单): late items handed to a responsible unit, followed until closed.

The loop 立项 → 交办 → 跟踪 → 反馈 → 办结: an order is created with its items and issued as a
numbered notice (立项, 交办); its items are followed live (跟踪: done when the node or the
household step gets its actual date); the unit's responses are recorded (反馈); the office closes
it (办结). An order not closed by its rectification deadline is escalated (computed, not stored).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from resettle.db import UTCDateTime, str_enum, utcnow
from resettle.extensions import db
from resettle.households.models import Stage
from resettle.supervision.levels import Level


class OrderStatus(enum.StrEnum):
    OPEN = "open"  # issued (交办), waiting for the unit's response
    RESPONDED = "responded"  # the unit answered (反馈)
    CLOSED = "closed"  # 办结


class ItemKind(enum.StrEnum):
    NODE = "node"  # a plan node (project or estate)
    STEP = "step"  # a household's case step


class SupervisionOrder(db.Model):
    __tablename__ = "supervision_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(sa.ForeignKey("notices.id"), unique=True)
    responsible_unit: Mapped[str] = mapped_column(sa.String(100), index=True)
    issued_on: Mapped[date]
    rectify_workdays: Mapped[int]
    rectify_by: Mapped[date]
    note: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[OrderStatus] = mapped_column(
        str_enum(OrderStatus, "supervision_order_status"), default=OrderStatus.OPEN
    )
    issued_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    closed_on: Mapped[date | None]
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    closing_note: Mapped[str | None] = mapped_column(sa.Text)
    items_open_at_close: Mapped[int | None]
    version_id: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    notice = relationship("Notice")
    issued_by = relationship("User", foreign_keys=[issued_by_id])
    closed_by = relationship("User", foreign_keys=[closed_by_id])
    items: Mapped[list[SupervisionItem]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="SupervisionItem.id"
    )
    responses: Mapped[list[SupervisionResponse]] = relationship(
        back_populates="order",
        cascade="all, delete-orphan",
        order_by="(SupervisionResponse.responded_on, SupervisionResponse.id)",
    )

    __mapper_args__ = {"version_id_col": version_id}
    __table_args__ = (
        sa.CheckConstraint("rectify_workdays > 0", name="rectify_workdays_positive"),
        sa.CheckConstraint("rectify_by > issued_on", name="rectify_after_issue"),
        sa.CheckConstraint("(status = 'closed') = (closed_on IS NOT NULL)", name="closed_has_date"),
    )

    @property
    def number(self) -> str:
        return self.notice.number

    def escalated(self, today: date) -> bool:
        """Past its rectification deadline and not closed."""
        return self.status != OrderStatus.CLOSED and today > self.rectify_by

    @property
    def closed_on_time(self) -> bool:
        return self.closed_on is not None and self.closed_on <= self.rectify_by


class SupervisionItem(db.Model):
    """One late item of an order, as it stood when the order was issued."""

    __tablename__ = "supervision_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(
        sa.ForeignKey("supervision_orders.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[ItemKind] = mapped_column(str_enum(ItemKind, "supervision_item_kind"))
    plan_node_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("plan_nodes.id", ondelete="SET NULL"), index=True
    )
    household_id: Mapped[int | None] = mapped_column(sa.ForeignKey("households.id"), index=True)
    stage: Mapped[Stage | None] = mapped_column(str_enum(Stage, "supervision_item_stage"))
    # The item as printed on the order.
    scope: Mapped[str] = mapped_column(sa.String(240))  # project or estate
    subject: Mapped[str] = mapped_column(sa.String(240))  # node name, or case number and head
    deadline: Mapped[date]
    provisional: Mapped[bool] = mapped_column(default=False)
    days_late: Mapped[int]
    level: Mapped[Level] = mapped_column(str_enum(Level, "supervision_item_level"))
    responsible_unit: Mapped[str | None] = mapped_column(sa.String(100))
    responsible_person: Mapped[str | None] = mapped_column(sa.String(64))
    leader: Mapped[str | None] = mapped_column(sa.String(64))

    order: Mapped[SupervisionOrder] = relationship(back_populates="items")

    __table_args__ = (
        sa.CheckConstraint(
            "(kind = 'node' AND household_id IS NULL AND stage IS NULL)"
            " OR (kind = 'step' AND household_id IS NOT NULL AND stage IS NOT NULL"
            " AND plan_node_id IS NULL)",
            name="kind_matches_target",
        ),
    )


class SupervisionResponse(db.Model):
    """The responsible unit's answer (反馈) to an order, recorded by the supervision office."""

    __tablename__ = "supervision_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(
        sa.ForeignKey("supervision_orders.id", ondelete="CASCADE"), index=True
    )
    responded_on: Mapped[date]
    text: Mapped[str] = mapped_column(sa.Text)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order: Mapped[SupervisionOrder] = relationship(back_populates="responses")
    recorded_by = relationship("User")
