"""The household list: filters shared by the screen, the Excel export and the CLI."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from resettle.db import database_int
from resettle.households.models import Household, Stage
from resettle.idnumbers import normalise_id_number

PAGE_SIZE = 50


@dataclass
class HouseholdFilter:
    project_id: int | None = None
    stage: Stage | None = None
    overdue: bool = False
    caseworker_id: int | None = None
    search: str = ""


#: The query-string arguments of the list's filter (and of its export).
FILTER_ARGS = ("project", "stage", "overdue", "caseworker", "q")


def _whole(value: str | None) -> int | None:
    try:
        return database_int(value) if value else None
    except ValueError:
        return None  # not a number a record could have: not given


def filter_from(args: Mapping[str, str]) -> HouseholdFilter:
    """The list's filter from its query-string arguments (a request's, or an export job's)."""
    stage = args.get("stage", "")
    return HouseholdFilter(
        project_id=_whole(args.get("project")),
        stage=Stage(stage) if stage in Stage._value2member_map_ else None,
        overdue=args.get("overdue") == "1",
        caseworker_id=_whole(args.get("caseworker")),
        search=(args.get("q") or "")[:60],
    )


def filtered_households(
    f: HouseholdFilter, today: date, session: Session | None = None
) -> sa.Select:
    """A SELECT of households matching the filter, in case-number order."""
    query = sa.select(Household)
    if f.project_id:
        query = query.where(Household.project_id == f.project_id)
    if f.stage:
        query = query.where(Household.stage == f.stage)
    if f.caseworker_id:
        query = query.where(Household.caseworker_id == f.caseworker_id)
    if f.overdue:
        from resettle.extensions import db
        from resettle.plans.deadlines import late_households_condition
        from resettle.plans.services import app_calendar

        session = session or db.session
        query = query.where(late_households_condition(session, today, app_calendar(session)))
    text = f.search.strip()
    if text:
        id_like = normalise_id_number(text)
        conditions = [Household.case_number == text, Household.head_name.startswith(text)]
        if len(id_like) == 18:
            conditions.append(Household.head_id_number == id_like)
        elif id_like.isdigit() or id_like.endswith("X"):
            conditions.append(Household.head_id_number.endswith(id_like))
        if len(text) >= 2:
            conditions.append(Household.case_number.startswith(text))
            conditions.append(Household.head_name.contains(text))
        query = query.where(sa.or_(*conditions))
    return query.order_by(Household.case_number)


def household_page(
    session: Session, f: HouseholdFilter, page: int, today: date
) -> tuple[list[Household], int]:
    """One page of the filtered list and the total count."""
    query = filtered_households(f, today, session)
    total = session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    rows = session.scalars(
        query.options(selectinload(Household.project), selectinload(Household.caseworker))
        .limit(PAGE_SIZE)
        .offset((max(page, 1) - 1) * PAGE_SIZE)
    )
    return list(rows), total or 0
