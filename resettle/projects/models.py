"""Expropriation projects (征收项目)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from resettle.db import UTCDateTime, utcnow
from resettle.extensions import db


class ExpropriationProject(db.Model):
    __tablename__ = "expropriation_projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    decision_number: Mapped[str | None] = mapped_column(sa.String(100))
    decision_date: Mapped[date | None]
    signing_start: Mapped[date | None]
    signing_end: Mapped[date | None]
    land_delivery_date: Mapped[date | None]
    transition_months: Mapped[int] = mapped_column(default=24)
    remind_workdays: Mapped[int] = mapped_column(default=5)
    supervise_workdays: Mapped[int] = mapped_column(default=10)
    # A notice whose plan date has passed asks for this many working days from its issue date
    # (e.g. "vacate within 10 working days of this notice").
    notice_workdays: Mapped[int] = mapped_column(default=10, server_default="10")
    # The estate this project's property-swap households move into.
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("resettlement_sites.id"))
    # Shown on the public pages (list, project page, case lookups, disclosures) only once a
    # supervisor or an administrator publishes it (resettle.projects.services.publish_project).
    published: Mapped[bool] = mapped_column(default=False)
    version_id: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    households = relationship("Household", back_populates="project")
    site = relationship("ResettlementSite")

    __mapper_args__ = {"version_id_col": version_id}
    __table_args__ = (
        sa.CheckConstraint("transition_months >= 0", name="transition_months_nonneg"),
        sa.CheckConstraint("remind_workdays >= 0", name="remind_workdays_nonneg"),
        sa.CheckConstraint("supervise_workdays >= 0", name="supervise_workdays_nonneg"),
        sa.CheckConstraint("notice_workdays BETWEEN 1 AND 120", name="notice_workdays_range"),
        sa.CheckConstraint(
            "signing_end IS NULL OR signing_start IS NULL OR signing_end >= signing_start",
            name="signing_window_order",
        ),
    )

    def __repr__(self) -> str:
        return f"<ExpropriationProject {self.code}>"
