"""The figures on the dashboard."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from resettle.households.models import Household, Stage
from resettle.households.stages import STAGE_ORDER
from resettle.projects.models import ExpropriationProject
from resettle.sites.models import Building, ResettlementSite, Unit, UnitStatus


@dataclass
class ProjectRow:
    id: int
    code: str
    name: str
    by_stage: dict[Stage, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_stage.values())


@dataclass
class SiteRow:
    id: int
    name: str
    promised_handover_date: date | None
    by_status: dict[UnitStatus, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


@dataclass
class Dashboard:
    by_stage: dict[Stage, int]
    projects: list[ProjectRow]
    sites: list[SiteRow]

    @property
    def total_households(self) -> int:
        return sum(self.by_stage.values())


def dashboard_figures(session: Session) -> Dashboard:
    """Households per stage overall and per project, and flats per status per site."""
    projects = {
        p.id: ProjectRow(p.id, p.code, p.name, {s: 0 for s in STAGE_ORDER})
        for p in session.scalars(
            sa.select(ExpropriationProject).order_by(ExpropriationProject.code)
        )
    }
    by_stage = {s: 0 for s in STAGE_ORDER}
    rows = session.execute(
        sa.select(Household.project_id, Household.stage, sa.func.count()).group_by(
            Household.project_id, Household.stage
        )
    )
    for project_id, stage, count in rows:
        projects[project_id].by_stage[stage] = count
        by_stage[stage] += count
    sites = {
        s.id: SiteRow(s.id, s.name, s.promised_handover_date, {st: 0 for st in UnitStatus})
        for s in session.scalars(sa.select(ResettlementSite).order_by(ResettlementSite.name))
    }
    unit_rows = session.execute(
        sa.select(Building.site_id, Unit.status, sa.func.count())
        .join(Unit, Unit.building_id == Building.id)
        .group_by(Building.site_id, Unit.status)
    )
    for site_id, status, count in unit_rows:
        sites[site_id].by_status[status] = count
    return Dashboard(
        by_stage=by_stage, projects=list(projects.values()), sites=list(sites.values())
    )
