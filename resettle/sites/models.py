"""Resettlement estates (安置房项目), their buildings and flats."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from resettle.db import Area, UTCDateTime, str_enum, utcnow
from resettle.extensions import db


class UnitStatus(enum.StrEnum):
    AVAILABLE = "available"
    RESERVED = "reserved"
    ALLOCATED = "allocated"
    HANDED_OVER = "handed_over"


class ResettlementSite(db.Model):
    __tablename__ = "resettlement_sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    location: Mapped[str | None] = mapped_column(sa.String(300))
    promised_handover_date: Mapped[date | None]
    version_id: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    buildings: Mapped[list[Building]] = relationship(
        back_populates="site", order_by="Building.name"
    )

    __mapper_args__ = {"version_id_col": version_id}


class Building(db.Model):
    __tablename__ = "buildings"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("resettlement_sites.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(50))
    floors: Mapped[int]
    complete: Mapped[bool] = mapped_column(default=False)

    site: Mapped[ResettlementSite] = relationship(back_populates="buildings")
    units: Mapped[list[Unit]] = relationship(back_populates="building")

    __table_args__ = (
        sa.UniqueConstraint("site_id", "name", name="uq_buildings_site_name"),
        sa.CheckConstraint("floors > 0", name="floors_positive"),
    )


class Unit(db.Model):
    """A flat. `household_id` is the allocation: a flat belongs to at most one household."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(sa.ForeignKey("buildings.id"), index=True)
    entrance: Mapped[str] = mapped_column(sa.String(10))  # 单元
    floor: Mapped[int]
    number: Mapped[str] = mapped_column(sa.String(10))  # 室号, e.g. 1502
    area: Mapped[Decimal] = mapped_column(Area)
    status: Mapped[UnitStatus] = mapped_column(
        str_enum(UnitStatus, "unit_status"), default=UnitStatus.AVAILABLE
    )
    household_id: Mapped[int | None] = mapped_column(sa.ForeignKey("households.id"), index=True)
    version_id: Mapped[int] = mapped_column(default=1)

    building: Mapped[Building] = relationship(back_populates="units")
    household = relationship("Household", back_populates="units")

    __mapper_args__ = {"version_id_col": version_id}
    __table_args__ = (
        sa.UniqueConstraint("building_id", "entrance", "number", name="uq_units_building_door"),
        sa.CheckConstraint("area > 0", name="area_positive"),
        sa.CheckConstraint(
            "(status IN ('allocated', 'handed_over')) = (household_id IS NOT NULL)",
            name="allocation_matches_status",
        ),
    )

    @property
    def label(self) -> str:
        return self.format_label(self.building.name, self.entrance, self.number)

    @staticmethod
    def format_label(building: str, entrance: str, number: str) -> str:
        """楼栋 + 单元 + 室号, e.g. 3号楼2单元1502室."""
        return f"{building}{entrance}单元{number}室"
