"""The supervision office's closed loop (督查督办): overdue lists, supervision orders, dashboard.

Open items are plan nodes and household case steps with a deadline and no actual date
(DOMAIN.md, "Supervision"). Their level (提醒 / 警示 / 督办) follows `supervision.levels.assess`
with N and M of the project: a project's households and its plan use the project's own; an
estate's plan uses the largest N and M among the projects that move into it (the strictest
reading: an estate late for one project is late), or the defaults 5 and 10 when none does.

The overdue list is one SQL query, not a loop over households. Household stage deadlines are
shared by every household of a project (they come from the plan nodes, see
`plans.deadlines`), so each late (project, stage) pair is one indexed select
of the households still before that stage; a deadline entered on a household's own case step
is one more select over the partial index of open step deadlines. Working days cannot be
counted in SQL, so the level boundaries are turned into dates first: with a fixed `today`,
"late by more than M working days" is "deadline before a certain date", per project.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import openpyxl
import sqlalchemy as sa
from openpyxl.utils import get_column_letter
from sqlalchemy.orm import Session, aliased, selectinload

from resettle import clock
from resettle.auth.models import User
from resettle.calendar import WorkCalendar
from resettle.chinese import in_chinese
from resettle.db import database_int, utcnow
from resettle.documents.dates import chinese_date
from resettle.errors import RuleViolation
from resettle.households import stages
from resettle.households.models import CaseStep, Household, Stage
from resettle.i18n import STAGE_LABELS
from resettle.notices.models import NoticeType
from resettle.notices.services import draft_notices, store_notices
from resettle.pdf import render_pdf
from resettle.plans.deadlines import (
    days_late,
    first_deadline_late_by_at_most,
    set_by_site,
    sets_deadline,
)
from resettle.plans.models import Plan, PlanNode
from resettle.plans.services import app_calendar
from resettle.projects.models import ExpropriationProject
from resettle.sites.models import ResettlementSite
from resettle.spreadsheets.writing import safe_cell, workbook_bytes
from resettle.supervision.levels import LEVEL_LABELS, Level
from resettle.supervision.models import (
    ItemKind,
    OrderStatus,
    SupervisionItem,
    SupervisionOrder,
    SupervisionResponse,
)
from resettle.translate import gettext as _
from resettle.translate import lazy_gettext as _l

DEFAULT_REMIND_WORKDAYS = 5
DEFAULT_SUPERVISE_WORKDAYS = 10
PAGE_SIZE = 200
MAX_PDF_ROWS = 5000
MAX_XLSX_ROWS = 200_000
MAX_RECTIFY_WORKDAYS = 60
UNASSIGNED = "-"  # the unit filter's value for items without a responsible unit
# The printed list and the Excel file are Chinese documents whatever the screen's language.
OVERDUE_TITLE = "督查督办逾期清单"
NO_UNIT_TEXT = "（未明确责任单位）"
LEVEL_SEVERITY = {Level.SUPERVISE: 0, Level.WARN: 1, Level.REMIND: 2}

KIND_LABELS = {ItemKind.NODE: _l("Plan node"), ItemKind.STEP: _l("Household")}
ORDER_STATUS_LABELS = {
    OrderStatus.OPEN: _l("Issued, awaiting response"),
    OrderStatus.RESPONDED: _l("Response received"),
    OrderStatus.CLOSED: _l("Order closed"),
}


# --- level boundaries as dates ---------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """With `today` fixed, the supervision levels as deadline ranges (see supervision.levels):
    deadline < supervise_before: 督办; < late_before: 警示; <= remind_through: 提醒."""

    remind_through: date
    late_before: date
    supervise_before: date

    def level(self, deadline: date) -> Level | None:
        if deadline < self.supervise_before:
            return Level.SUPERVISE
        if deadline < self.late_before:
            return Level.WARN
        if deadline <= self.remind_through:
            return Level.REMIND
        return None


def limits_for(
    calendar: WorkCalendar, today: date, remind_workdays: int, supervise_workdays: int
) -> Limits:
    """The date boundaries of the levels for one N (remind) and M (supervise)."""
    return Limits(
        remind_through=first_deadline_late_by_at_most(calendar, today, -remind_workdays - 1)
        - timedelta(days=1),
        late_before=first_deadline_late_by_at_most(calendar, today, 0),
        supervise_before=first_deadline_late_by_at_most(calendar, today, supervise_workdays),
    )


# --- the overdue list ------------------------------------------------------------------------


def item_key(
    kind: ItemKind, node_id: int | None, household_id: int | None, stage: Stage | None
) -> str:
    """An open item's identity in forms and orders: n<node id> or h<household id>-<stage>
    (`parse_key` reads it back)."""
    if kind == ItemKind.NODE:
        return f"n{node_id}"
    return f"h{household_id}-{Stage(stage).value}"


@dataclass
class OverdueFilter:
    project_id: int | None = None
    unit: str | None = None  # a responsible unit, or UNASSIGNED
    level: Level | None = None


@dataclass
class OverdueItem:
    """One open item as the lists show it."""

    kind: ItemKind
    level: Level
    deadline: date
    provisional: bool
    days_late: int
    responsible_unit: str | None
    responsible_person: str | None
    leader: str | None
    scope: str  # the project (code and name) or the estate
    project_id: int | None = None
    node_id: int | None = None
    node_name: str | None = None
    household_id: int | None = None
    stage: Stage | None = None
    case_number: str | None = None
    head_name: str | None = None
    caseworker: str | None = None
    order_number: str | None = None  # an open supervision order that covers it
    order_id: int | None = None

    @property
    def key(self) -> str:
        """The item's identity in forms (`item_key`)."""
        return item_key(self.kind, self.node_id, self.household_id, self.stage)

    @property
    def subject(self) -> str:
        if self.kind == ItemKind.NODE:
            return self.node_name or ""
        return f"{self.case_number} {self.head_name}"

    @property
    def what(self) -> str:
        """The stage (households) or the node (plans)."""
        if self.kind == ItemKind.NODE:
            return self.node_name or ""
        return str(STAGE_LABELS[self.stage])


@dataclass(frozen=True)
class _StageSource:
    """A plan node that sets one stage's deadline for the households of one project."""

    project_id: int
    stage: Stage
    deadline: date
    provisional: bool
    node_id: int
    node_name: str
    unit: str | None
    person: str | None
    leader: str | None


@dataclass
class _Context:
    """Everything the query builder needs, read once per request."""

    today: date
    calendar: WorkCalendar
    projects: dict[int, ExpropriationProject]
    sites: dict[int, ResettlementSite]
    project_limits: dict[int, Limits]
    plan_limits: dict[int, Limits]
    sources: list[_StageSource]


def _context(session: Session, today: date, calendar: WorkCalendar | None = None) -> _Context:
    calendar = calendar or app_calendar(session)
    projects = {p.id: p for p in session.scalars(sa.select(ExpropriationProject))}
    sites = {s.id: s for s in session.scalars(sa.select(ResettlementSite))}
    cache: dict[tuple[int, int], Limits] = {}

    def limits(n: int, m: int) -> Limits:
        if (n, m) not in cache:
            cache[(n, m)] = limits_for(calendar, today, n, m)
        return cache[(n, m)]

    project_limits = {
        p.id: limits(p.remind_workdays, p.supervise_workdays) for p in projects.values()
    }
    plan_limits: dict[int, Limits] = {}
    plans = session.execute(
        sa.select(Plan.id, Plan.project_id, Plan.site_id).where(Plan.is_template.is_(False))
    ).all()
    for plan_id, project_id, site_id in plans:
        if project_id is not None:
            plan_limits[plan_id] = project_limits[project_id]
        else:
            moving_in = [p for p in projects.values() if p.site_id == site_id]
            plan_limits[plan_id] = limits(
                max((p.remind_workdays for p in moving_in), default=DEFAULT_REMIND_WORKDAYS),
                max((p.supervise_workdays for p in moving_in), default=DEFAULT_SUPERVISE_WORKDAYS),
            )
    sources = []
    nodes = session.execute(
        sa.select(PlanNode, Plan.project_id, Plan.site_id)
        .join(Plan, Plan.id == PlanNode.plan_id)
        .where(
            Plan.is_template.is_(False),
            PlanNode.stage.is_not(None),
            PlanNode.planned_finish.is_not(None),
        )
    ).all()
    for node, project_id, site_id in nodes:
        if not sets_deadline(project_id, site_id, node.stage):
            continue
        if set_by_site(node.stage):
            targets = [p.id for p in projects.values() if p.site_id == site_id]
        else:
            targets = [project_id]
        for target in targets:
            sources.append(
                _StageSource(
                    target,
                    node.stage,
                    node.planned_finish,
                    node.provisional,
                    node.id,
                    node.name,
                    node.responsible_unit,
                    node.responsible_person,
                    node.leader,
                )
            )
    return _Context(today, calendar, projects, sites, project_limits, plan_limits, sources)


def _null(type_: Any) -> sa.ColumnElement:
    return sa.cast(sa.null(), type_)


def _text(value: str | None) -> sa.ColumnElement:
    return _null(sa.String) if value is None else sa.literal(value, sa.String)


def _unit_matches(column: sa.ColumnElement, unit: str) -> sa.ColumnElement[bool]:
    return column.is_(None) if unit == UNASSIGNED else column == unit


def _level_case(
    deadline: sa.ColumnElement, key: sa.ColumnElement, limits: dict[int, Limits]
) -> sa.ColumnElement:
    """The level of a row in SQL, from the date boundaries of its project (or plan)."""
    supervise = sa.case({k: v.supervise_before for k, v in limits.items()}, value=key)
    late = sa.case({k: v.late_before for k, v in limits.items()}, value=key)
    return sa.case(
        (deadline < supervise, Level.SUPERVISE.value),
        (deadline < late, Level.WARN.value),
        else_=Level.REMIND.value,
    )


def _node_select(ctx: _Context, filters: OverdueFilter, only_nodes: set[int] | None) -> Any:
    node_limits = {
        plan_id: limits for plan_id, limits in ctx.plan_limits.items()
    }  # plan id -> limits
    if not node_limits:
        return None
    query = (
        sa.select(
            sa.literal(ItemKind.NODE.value, sa.String).label("kind"),
            PlanNode.id.label("node_id"),
            _null(sa.Integer).label("household_id"),
            _null(sa.String).label("stage"),
            Plan.project_id.label("project_id"),
            Plan.site_id.label("site_id"),
            PlanNode.planned_finish.label("deadline"),
            PlanNode.provisional.label("provisional"),
            _level_case(PlanNode.planned_finish, Plan.id, node_limits).label("level"),
            PlanNode.responsible_unit.label("unit"),
            PlanNode.responsible_person.label("person"),
            PlanNode.leader.label("leader"),
            PlanNode.name.label("node_name"),
            _null(sa.String).label("case_number"),
            _null(sa.String).label("head_name"),
            _null(sa.Integer).label("caseworker_id"),
        )
        .join(Plan, Plan.id == PlanNode.plan_id)
        .where(
            Plan.is_template.is_(False),
            PlanNode.actual_finish.is_(None),
            PlanNode.planned_finish.is_not(None),
            PlanNode.planned_finish
            <= sa.case({k: v.remind_through for k, v in node_limits.items()}, value=Plan.id),
        )
    )
    if filters.project_id is not None:
        project = ctx.projects.get(filters.project_id)
        owners = [Plan.project_id == filters.project_id]
        if project is not None and project.site_id is not None:
            owners.append(Plan.site_id == project.site_id)
        query = query.where(sa.or_(*owners))
    if filters.unit is not None:
        query = query.where(_unit_matches(PlanNode.responsible_unit, filters.unit))
    if only_nodes is not None:
        query = query.where(PlanNode.id.in_(only_nodes or {0}))
    return query


def _source_selects(
    ctx: _Context, filters: OverdueFilter, only_households: set[int] | None
) -> list[tuple[Any, tuple[str | None, date]]]:
    """One select per late (project, stage) deadline from a plan: the households before it,
    each with the responsible unit and the deadline that all of its rows share."""
    selects = []
    for source in ctx.sources:
        limits = ctx.project_limits.get(source.project_id)
        level = limits.level(source.deadline) if limits else None
        if level is None:
            continue
        if filters.project_id is not None and source.project_id != filters.project_id:
            continue
        if filters.level is not None and level != filters.level:
            continue
        if filters.unit is not None and (
            (source.unit is None) != (filters.unit == UNASSIGNED)
            or (source.unit is not None and source.unit != filters.unit)
        ):
            continue
        step = aliased(CaseStep)
        query = (
            sa.select(
                sa.literal(ItemKind.STEP.value, sa.String).label("kind"),
                _null(sa.Integer).label("node_id"),
                Household.id.label("household_id"),
                sa.literal(source.stage.value, sa.String).label("stage"),
                Household.project_id.label("project_id"),
                _null(sa.Integer).label("site_id"),
                sa.literal(source.deadline, sa.Date).label("deadline"),
                sa.literal(source.provisional, sa.Boolean).label("provisional"),
                sa.literal(level.value, sa.String).label("level"),
                _text(source.unit).label("unit"),
                _text(source.person).label("person"),
                _text(source.leader).label("leader"),
                _text(source.node_name).label("node_name"),
                Household.case_number.label("case_number"),
                Household.head_name.label("head_name"),
                Household.caseworker_id.label("caseworker_id"),
            )
            .select_from(Household)
            .outerjoin(step, sa.and_(step.household_id == Household.id, step.stage == source.stage))
            .where(
                Household.project_id == source.project_id,
                stages.before_sql(Household.stage, source.stage),
                stages.on_path_sql(Household.compensation_mode, source.stage),
                # a deadline entered on the household's own step wins (selected below)
                step.deadline.is_(None),
                step.actual_date.is_(None),
            )
        )
        if only_households is not None:
            query = query.where(Household.id.in_(only_households or {0}))
        selects.append((query, (source.unit, source.deadline)))
    return selects


def _own_deadline_select(
    ctx: _Context, filters: OverdueFilter, only_households: set[int] | None
) -> Any:
    """Steps with a deadline entered on the household's own case (it overrides the plan's)."""
    limits = ctx.project_limits
    if not limits:
        return None
    if filters.project_id is not None:
        limits = {k: v for k, v in limits.items() if k == filters.project_id}
        if not limits:
            return None
    latest = max(v.remind_through for v in limits.values())
    by_stage = {(s.project_id, s.stage.value): s for s in ctx.sources}

    def from_source(attribute: str) -> sa.ColumnElement:
        whens = [
            (
                sa.and_(Household.project_id == project_id, CaseStep.stage == stage),
                getattr(source, attribute),
            )
            for (project_id, stage), source in by_stage.items()
            if getattr(source, attribute) is not None
        ]
        if not whens:
            return _null(sa.String)
        return sa.case(*whens, else_=_null(sa.String))

    query = (
        sa.select(
            sa.literal(ItemKind.STEP.value, sa.String).label("kind"),
            _null(sa.Integer).label("node_id"),
            Household.id.label("household_id"),
            sa.cast(CaseStep.stage, sa.String).label("stage"),
            Household.project_id.label("project_id"),
            _null(sa.Integer).label("site_id"),
            CaseStep.deadline.label("deadline"),
            sa.literal(False, sa.Boolean).label("provisional"),
            _level_case(CaseStep.deadline, Household.project_id, limits).label("level"),
            from_source("unit").label("unit"),
            from_source("person").label("person"),
            from_source("leader").label("leader"),
            from_source("node_name").label("node_name"),
            Household.case_number.label("case_number"),
            Household.head_name.label("head_name"),
            Household.caseworker_id.label("caseworker_id"),
        )
        .select_from(CaseStep)
        .join(Household, Household.id == CaseStep.household_id)
        .where(
            CaseStep.actual_date.is_(None),
            CaseStep.deadline.is_not(None),
            CaseStep.deadline <= latest,
            CaseStep.deadline
            <= sa.case(
                {k: v.remind_through for k, v in limits.items()}, value=Household.project_id
            ),
            stages.rank_sql(CaseStep.stage) > stages.rank_sql(Household.stage),
            stages.on_path_sql(Household.compensation_mode, CaseStep.stage),
        )
    )
    if filters.project_id is not None:
        query = query.where(Household.project_id == filters.project_id)
    if only_households is not None:
        query = query.where(Household.id.in_(only_households or {0}))
    return query


def _components(
    ctx: _Context,
    filters: OverdueFilter,
    *,
    only_nodes: set[int] | None = None,
    only_households: set[int] | None = None,
    keys: list[tuple[str | None, date] | None] | None = None,
) -> list[Any]:
    """The parts of the list as subqueries, each with every filter applied: the plan nodes, one
    part per late (project, stage) plan deadline, and the households' own deadlines. When
    `keys` is given it gets, for each part, the unit and deadline all its rows share (the
    plan-deadline parts), or None (their rows differ)."""
    selects: list[tuple[Any, tuple[str | None, date] | None]] = []
    if only_nodes is None or only_nodes:
        node_select = _node_select(ctx, filters, only_nodes)
        if node_select is not None:
            selects.append((node_select, None))
    if only_households is None or only_households:
        selects.extend(_source_selects(ctx, filters, only_households))
        own = _own_deadline_select(ctx, filters, only_households)
        if own is not None:
            selects.append((own, None))
    if keys is not None:
        keys.extend(key for _select, key in selects)
    parts = []
    for index, (select, _key) in enumerate(selects):
        part = select.subquery(f"part{index}")
        query = sa.select(part)
        if filters.unit is not None:
            query = query.where(_unit_matches(part.c.unit, filters.unit))
        if filters.level is not None:
            query = query.where(part.c.level == filters.level.value)
        parts.append(query.subquery(f"items{index}"))
    return parts


def _items_subquery(parts: list[Any]) -> Any | None:
    """All parts as one subquery (for the exports and for looking items up)."""
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    return sa.union_all(*(sa.select(part) for part in parts)).subquery("overdue")


@dataclass
class UnitSummary:
    """The open items of one responsible unit (None: no unit named in the plan), by level."""

    unit: str | None
    by_level: dict[Level, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_level.values())

    @property
    def late(self) -> int:
        return self.by_level.get(Level.WARN, 0) + self.by_level.get(Level.SUPERVISE, 0)

    @property
    def filter_value(self) -> str:
        return self.unit if self.unit is not None else UNASSIGNED


def _summaries(session: Session, parts: list[Any]) -> list[UnitSummary]:
    """Counts per unit and level. Measured at 100,000 households: SQLite groups part by part
    faster (230 ms for the union against about 100 ms), PostgreSQL the union in one go."""
    by_unit: dict[str | None, UnitSummary] = {}
    if parts and session.get_bind().dialect.name == "postgresql":
        parts = [_items_subquery(parts)]
    for part in parts:
        rows = session.execute(
            sa.select(part.c.unit, part.c.level, sa.func.count()).group_by(
                part.c.unit, part.c.level
            )
        ).all()
        for unit, level, count in rows:
            summary = by_unit.setdefault(unit, UnitSummary(unit))
            summary.by_level[Level(level)] = summary.by_level.get(Level(level), 0) + count
    # The most serious units first: most 督办 items, then most late, then by name.
    return sorted(
        by_unit.values(),
        key=lambda s: (
            s.unit is None,
            -s.by_level.get(Level.SUPERVISE, 0),
            -s.late,
            -s.total,
            s.unit or "",
        ),
    )


def _unit_ranks(summaries: list[UnitSummary]) -> dict[str | None, int]:
    return {s.unit: rank for rank, s in enumerate(summaries)}


def _ordered(overdue: Any, summaries: list[UnitSummary], dialect: str) -> Any:
    """Rows grouped by unit (in the summaries' order), most days late first."""
    return sa.select(overdue).order_by(*_row_order(overdue, summaries, dialect))


def _row_order(overdue: Any, summaries: list[UnitSummary], dialect: str) -> list[Any]:
    """Unit, then most days late first; the same order on every database and in Python
    (`_row_key`): no NULLs among the keys, text compared by code point (PostgreSQL's "C")."""

    def text(column: Any) -> Any:
        value = sa.func.coalesce(column, "")
        return value.collate("C") if dialect == "postgresql" else value

    ranks = {u: r for u, r in _unit_ranks(summaries).items() if u is not None}
    unit_rank = (
        sa.case(ranks, value=overdue.c.unit, else_=len(summaries)) if ranks else sa.literal(0)
    )
    return [
        unit_rank,
        overdue.c.deadline,
        text(overdue.c.kind),
        sa.func.coalesce(overdue.c.project_id, 0),
        text(overdue.c.case_number),
        sa.func.coalesce(overdue.c.node_id, 0),
        text(overdue.c.stage),
    ]


def _row_key(row: Any, ranks: dict[str | None, int]) -> tuple[Any, ...]:
    deadline = row.deadline if isinstance(row.deadline, date) else date.fromisoformat(row.deadline)
    return (
        ranks.get(row.unit, len(ranks)) if row.unit is not None else len(ranks),
        deadline,
        row.kind or "",
        row.project_id or 0,
        row.case_number or "",
        row.node_id or 0,
        row.stage or "",
    )


#: Up to this many rows from the start, a page is read as the first rows of each part, merged.
MERGE_LIMIT = 5000


def _page_rows(
    session: Session,
    parts: list[Any],
    summaries: list[UnitSummary],
    offset: int,
    limit: int,
    keys: list[tuple[str | None, date] | None],
) -> list[Any]:
    """One page of rows in list order. On SQLite near the start of the list, each part gives
    its own first rows and they are merged (sorting the whole union took 250 ms at 100,000
    households); a plan-deadline part whose unit and deadline come after enough rows already
    read is not read at all. Otherwise the database sorts the union (PostgreSQL: faster)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql" or offset + limit > MERGE_LIMIT:
        overdue = _items_subquery(parts)
        return session.execute(
            _ordered(overdue, summaries, dialect).limit(limit).offset(offset)
        ).all()
    ranks = {u: r for u, r in _unit_ranks(summaries).items() if u is not None}
    wanted = offset + limit

    def read(part: Any) -> list[Any]:
        return session.execute(_ordered(part, summaries, dialect).limit(wanted)).all()

    rows: list[Any] = []
    fixed = []
    for part, key in zip(parts, keys, strict=True):
        if key is None:
            rows.extend(read(part))
        else:
            unit, deadline = key
            fixed.append(
                ((ranks.get(unit, len(ranks)) if unit is not None else len(ranks), deadline), part)
            )
    fixed.sort(key=lambda entry: entry[0])
    for start, part in fixed:
        if sum(1 for row in rows if _row_key(row, ranks)[:2] < start) >= wanted:
            break  # this part and every later one come after the page
        rows.extend(read(part))
    rows.sort(key=lambda row: _row_key(row, ranks))
    return rows[offset : offset + limit]


def _open_order_keys(session: Session) -> dict[str, tuple[int, str]]:
    """Items under an order not closed yet: item key -> (order id, order number)."""
    orders = session.scalars(
        sa.select(SupervisionOrder)
        .where(SupervisionOrder.status != OrderStatus.CLOSED)
        .options(selectinload(SupervisionOrder.items), selectinload(SupervisionOrder.notice))
    )
    keys: dict[str, tuple[int, str]] = {}
    for order in orders:
        for item in order.items:
            key = item_key(item.kind, item.plan_node_id, item.household_id, item.stage)
            keys[key] = (order.id, order.number)
    return keys


def _to_items(session: Session, ctx: _Context, rows: Sequence[Any]) -> list[OverdueItem]:
    caseworker_ids = {r.caseworker_id for r in rows if r.caseworker_id}
    names = (
        dict(
            session.execute(
                sa.select(User.id, User.full_name).where(User.id.in_(caseworker_ids))
            ).all()
        )
        if caseworker_ids
        else {}
    )
    under_order = _open_order_keys(session)
    items = []
    for r in rows:
        if r.project_id is not None and r.project_id in ctx.projects:
            project = ctx.projects[r.project_id]
            scope = f"{project.code} {project.name}"
        elif r.site_id is not None and r.site_id in ctx.sites:
            scope = ctx.sites[r.site_id].name
        else:
            scope = ""
        deadline = r.deadline if isinstance(r.deadline, date) else date.fromisoformat(r.deadline)
        item = OverdueItem(
            kind=ItemKind(r.kind),
            level=Level(r.level),
            deadline=deadline,
            provisional=bool(r.provisional),
            days_late=days_late(ctx.calendar, deadline, ctx.today),
            responsible_unit=r.unit,
            responsible_person=r.person,
            leader=r.leader,
            scope=scope,
            project_id=r.project_id,
            node_id=r.node_id,
            node_name=r.node_name,
            household_id=r.household_id,
            stage=Stage(r.stage) if r.stage else None,
            case_number=r.case_number,
            head_name=r.head_name,
            caseworker=names.get(r.caseworker_id),
        )
        order = under_order.get(item.key)
        if order is not None:
            item.order_id, item.order_number = order
        items.append(item)
    return items


@dataclass
class OverduePage:
    """A page of the overdue list: the units with their counts and this page's rows by unit."""

    today: date
    summaries: list[UnitSummary]
    groups: list[tuple[UnitSummary, list[OverdueItem]]]
    total: int
    page: int
    pages: int

    @property
    def by_level(self) -> dict[Level, int]:
        counts: Counter[Level] = Counter()
        for summary in self.summaries:
            counts.update(summary.by_level)
        return {level: counts.get(level, 0) for level in Level}


def _group(items: Iterable[OverdueItem], summaries: list[UnitSummary]) -> list[Any]:
    by_unit = {s.unit: s for s in summaries}
    groups: list[tuple[UnitSummary, list[OverdueItem]]] = []
    for item in items:
        if not groups or groups[-1][0].unit != item.responsible_unit:
            groups.append(
                (by_unit.get(item.responsible_unit, UnitSummary(item.responsible_unit)), [])
            )
        groups[-1][1].append(item)
    return groups


def overdue_summary(
    session: Session, filters: OverdueFilter, today: date, *, calendar: WorkCalendar | None = None
) -> list[UnitSummary]:
    """The open items per responsible unit and level (most serious unit first)."""
    ctx = _context(session, today, calendar)
    return _summaries(session, _components(ctx, filters))


def overdue_page(
    session: Session,
    filters: OverdueFilter,
    today: date,
    page: int = 1,
    *,
    page_size: int = PAGE_SIZE,
    calendar: WorkCalendar | None = None,
) -> OverduePage:
    """One page of the overdue list, grouped by unit, most days late first within a unit."""
    ctx = _context(session, today, calendar)
    keys: list[tuple[str | None, date] | None] = []
    parts = _components(ctx, filters, keys=keys)
    if not parts:
        return OverduePage(today, [], [], 0, 1, 1)
    summaries = _summaries(session, parts)
    total = sum(s.total for s in summaries)
    pages = max((total + page_size - 1) // page_size, 1)
    page = min(max(page, 1), pages)
    rows = _page_rows(session, parts, summaries, (page - 1) * page_size, page_size, keys)
    items = _to_items(session, ctx, rows)
    return OverduePage(today, summaries, _group(items, summaries), total, page, pages)


def overdue_items(
    session: Session,
    filters: OverdueFilter,
    today: date,
    *,
    limit: int | None = None,
    calendar: WorkCalendar | None = None,
) -> tuple[list[UnitSummary], list[OverdueItem]]:
    """Every open item matching the filters (up to `limit`), in list order, with the summaries."""
    ctx = _context(session, today, calendar)
    parts = _components(ctx, filters)
    if not parts:
        return [], []
    summaries = _summaries(session, parts)
    query = _ordered(_items_subquery(parts), summaries, session.get_bind().dialect.name)
    if limit is not None:
        query = query.limit(limit)
    return summaries, _to_items(session, ctx, session.execute(query).all())


def parse_key(key: str) -> tuple[ItemKind, int, Stage | None] | None:
    """(NODE, node id, None) or (STEP, household id, stage) from an `item_key`; None if
    malformed."""
    key = (key or "").strip()
    try:
        if key.startswith("n"):
            return (ItemKind.NODE, database_int(key[1:]), None)
        if key.startswith("h") and "-" in key:
            household, stage = key[1:].split("-", 1)
            return (ItemKind.STEP, database_int(household), Stage(stage))
    except ValueError:
        return None
    return None


def items_by_keys(
    session: Session, keys: Iterable[str], today: date, *, calendar: WorkCalendar | None = None
) -> list[OverdueItem]:
    """The open items among `keys` (items done or not due any more are left out)."""
    parsed = [p for p in (parse_key(k) for k in keys) if p is not None]
    nodes = {number for kind, number, _stage in parsed if kind == ItemKind.NODE}
    households = {number for kind, number, _stage in parsed if kind == ItemKind.STEP}
    wanted = {item_key(kind, number, number, stage) for kind, number, stage in parsed}
    ctx = _context(session, today, calendar)
    parts = _components(ctx, OverdueFilter(), only_nodes=nodes, only_households=households)
    if not parts:
        return []
    rows = session.execute(
        _ordered(_items_subquery(parts), [], session.get_bind().dialect.name)
    ).all()
    return [item for item in _to_items(session, ctx, rows) if item.key in wanted]


# --- exports ---------------------------------------------------------------------------------


def filter_description(session: Session, filters: OverdueFilter) -> list[str]:
    """The filters in words for the printed list's head (a Chinese document, like the Excel)."""
    parts = []
    if filters.project_id is not None:
        project = session.get(ExpropriationProject, filters.project_id)
        if project is not None:
            parts.append(f"项目：{project.code} {project.name}")
    if filters.unit is not None:
        parts.append(f"责任单位：{NO_UNIT_TEXT if filters.unit == UNASSIGNED else filters.unit}")
    if filters.level is not None:
        with in_chinese():
            parts.append(f"等级：{LEVEL_LABELS[filters.level]}")
    return parts


def _plain_row(item: OverdueItem) -> dict[str, Any]:
    return {
        "level": str(LEVEL_LABELS[item.level]),
        "level_value": item.level.value,
        "days_late": item.days_late,
        "scope": item.scope,
        "subject": item.subject,
        "what": item.what,
        "deadline": item.deadline.isoformat(),
        "provisional": item.provisional,
        "person": item.responsible_person or "",
        "leader": item.leader or "",
        "caseworker": item.caseworker or "",
        "order": item.order_number or "",
    }


def overdue_pdf_context(
    session: Session,
    filters: OverdueFilter,
    today: date,
    *,
    made_at: datetime | None = None,
    calendar: WorkCalendar | None = None,
) -> dict[str, Any]:
    """The plain data the printed overdue list is made from (RuleViolation when too long)."""
    summaries, items = overdue_items(
        session, filters, today, limit=MAX_PDF_ROWS + 1, calendar=calendar
    )
    if len(items) > MAX_PDF_ROWS:
        raise RuleViolation(
            _(
                "The list has more than %(n)d items, too many to print: filter by project, unit "
                "or level, or download it as Excel.",
                n=MAX_PDF_ROWS,
            ),
            "unit",
        )
    groups = []
    for summary, group_items in _group(items, summaries):
        groups.append(
            {
                "unit": summary.unit or NO_UNIT_TEXT,
                "total": summary.total,
                "counts": [
                    (str(LEVEL_LABELS[level]), summary.by_level.get(level, 0)) for level in Level
                ],
                "rows": [_plain_row(i) for i in group_items],
            }
        )
    totals: Counter[Level] = Counter()
    for summary in summaries:
        totals.update(summary.by_level)
    return {
        "title": OVERDUE_TITLE,
        "made_at": made_at or utcnow(),
        "as_of": today.isoformat(),
        "filters": filter_description(session, filters),
        "groups": groups,
        "total": len(items),
        "totals": [(str(LEVEL_LABELS[level]), totals.get(level, 0)) for level in Level],
    }


OVERDUE_PDF_TEMPLATE = "supervision/pdf/overdue.html"


def overdue_pdf(
    session: Session,
    filters: OverdueFilter,
    today: date,
    *,
    made_at: datetime | None = None,
    calendar: WorkCalendar | None = None,
) -> bytes:
    """The overdue list as an A4 landscape PDF: header repeated, pages numbered, signatures."""
    with in_chinese():
        context = overdue_pdf_context(session, filters, today, made_at=made_at, calendar=calendar)
        return render_pdf(OVERDUE_PDF_TEMPLATE, **context)


XLSX_COLUMNS = (
    ("level", "等级", 8),
    ("days_late", "逾期工作日", 10),
    ("unit", "责任单位", 22),
    ("person", "责任人", 10),
    ("leader", "包挂领导", 12),
    ("kind", "类别", 8),
    ("scope", "项目", 30),
    ("subject", "事项", 26),
    ("what", "环节/节点", 12),
    ("deadline", "期限", 12),
    ("provisional", "期限暂定", 8),
    ("caseworker", "经办人", 10),
    ("order", "督办单", 20),
)


def overdue_xlsx(
    session: Session,
    filters: OverdueFilter,
    today: date,
    *,
    calendar: WorkCalendar | None = None,
) -> bytes:
    """The overdue list as .xlsx (text that Excel would run as a formula stays text)."""
    _summaries_, items = overdue_items(
        session, filters, today, limit=MAX_XLSX_ROWS, calendar=calendar
    )
    workbook = openpyxl.Workbook(write_only=True)
    ws = workbook.create_sheet("逾期清单")
    for index, (_key, _header, width) in enumerate(XLSX_COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "A3"
    ws.append([safe_cell(ws, f"截至 {today.isoformat()}（按工作日计）", bold=True)])
    ws.append([safe_cell(ws, header, bold=True) for _key, header, _width in XLSX_COLUMNS])
    with in_chinese():
        levels = {level: str(label) for level, label in LEVEL_LABELS.items()}
        kinds = {kind: str(label) for kind, label in KIND_LABELS.items()}
        stage_words = {stage: str(label) for stage, label in STAGE_LABELS.items()}
    for item in items:
        values = {
            "level": levels[item.level],
            "days_late": item.days_late,
            "unit": item.responsible_unit or "",
            "person": item.responsible_person or "",
            "leader": item.leader or "",
            "kind": kinds[item.kind],
            "scope": item.scope,
            "subject": item.subject,
            "what": item.node_name if item.kind == ItemKind.NODE else stage_words[item.stage],
            "deadline": item.deadline,
            "provisional": "暂定" if item.provisional else "",
            "caseworker": item.caseworker or "",
            "order": item.order_number or "",
        }
        ws.append(
            [
                safe_cell(ws, values[key], "yyyy-mm-dd" if key == "deadline" else None)
                for key, _header, _width in XLSX_COLUMNS
            ]
        )
    return workbook_bytes(workbook)


# --- supervision orders ----------------------------------------------------------------------


@dataclass
class OrderData:
    keys: list[str]
    responsible_unit: str
    rectify_workdays: int
    note: str | None = None


def suggested_unit(items: Sequence[OverdueItem]) -> str:
    """The unit most of the items belong to (to fill the order form)."""
    units = Counter(i.responsible_unit for i in items if i.responsible_unit)
    return units.most_common(1)[0][0] if units else ""


def issue_order(
    session: Session,
    data: OrderData,
    *,
    user: User | None,
    today: date | None = None,
    calendar: WorkCalendar | None = None,
) -> SupervisionOrder:
    """立项 and 交办: a supervision order for late items, numbered and printed as a notice."""
    today = today or clock.today()
    calendar = calendar or app_calendar(session)
    keys = list(dict.fromkeys(k for k in data.keys if k))
    if not keys:
        raise RuleViolation(_("Choose at least one late item for the order."), "items")
    unit = " ".join((data.responsible_unit or "").split())
    if not unit:
        raise RuleViolation(_("Name the responsible unit the order goes to."), "responsible_unit")
    if len(unit) > 100:
        raise RuleViolation(_("The unit's name is too long."), "responsible_unit")
    workdays = data.rectify_workdays
    if workdays is None or not 1 <= workdays <= MAX_RECTIFY_WORKDAYS:
        raise RuleViolation(
            _(
                "The rectification period is 1 to %(n)d working days.",
                n=MAX_RECTIFY_WORKDAYS,
            ),
            "rectify_workdays",
        )
    items = items_by_keys(session, keys, today, calendar=calendar)
    if len(items) < len(keys):
        raise RuleViolation(
            _(
                "%(n)d of the chosen items are no longer open (done, or not due soon); "
                "reload the list and choose again.",
                n=len(keys) - len(items),
            ),
            "items",
        )
    taken = [i for i in items if i.order_number]
    if taken:
        raise RuleViolation(
            _(
                "%(item)s is under supervision order %(number)s already (not closed yet).",
                item=f"{taken[0].subject} {taken[0].what}",
                number=taken[0].order_number,
            ),
            "items",
        )
    rectify_by = calendar.add_workdays(today, workdays)
    note = (data.note or "").strip() or None
    with in_chinese():
        printed = [
            {
                "scope": i.scope,
                "subject": i.subject,
                "stage": i.what,
                "deadline": i.deadline.isoformat(),
                "provisional": i.provisional,
                "days_late": i.days_late,
                "level": str(LEVEL_LABELS[i.level]),
                "person": i.responsible_person,
                "leader": i.leader,
            }
            for i in items
        ]
    details = {
        "type": NoticeType.SUPERVISION.value,
        "unit": unit,
        "rectify_workdays": workdays,
        "rectify_by": rectify_by.isoformat(),
        "rectify_by_text": chinese_date(rectify_by),
        "note": note or "",
        "item_count": len(items),
        "rows": printed,
    }
    drafts = draft_notices(session, NoticeType.SUPERVISION, [details], [None], issued_on=today)
    notice = store_notices(
        session,
        drafts,
        made_at=utcnow(),
        title=f"督办单 {drafts[0].number}",
        user=user,
        issued_on=today,
    )[0]
    order = SupervisionOrder(
        notice=notice,
        responsible_unit=unit,
        issued_on=today,
        rectify_workdays=workdays,
        rectify_by=rectify_by,
        note=note,
        status=OrderStatus.OPEN,
        issued_by_id=user.id if user else None,
    )
    for i in items:
        order.items.append(
            SupervisionItem(
                kind=i.kind,
                plan_node_id=i.node_id if i.kind == ItemKind.NODE else None,
                household_id=i.household_id,
                stage=i.stage if i.kind == ItemKind.STEP else None,
                scope=i.scope[:240],
                subject=i.subject[:240],
                deadline=i.deadline,
                provisional=i.provisional,
                days_late=i.days_late,
                level=i.level,
                responsible_unit=i.responsible_unit,
                responsible_person=i.responsible_person,
                leader=i.leader,
            )
        )
    session.add(order)
    session.flush()
    return order


def items_done(session: Session, order: SupervisionOrder) -> dict[int, date | bool | None]:
    """跟踪: for each item of the order, when it was done (a date, True when done without a
    recorded date, None while open), read live from the plan and the households."""
    node_ids = {i.plan_node_id for i in order.items if i.plan_node_id}
    household_ids = {i.household_id for i in order.items if i.household_id}
    finished = (
        dict(
            session.execute(
                sa.select(PlanNode.id, PlanNode.actual_finish).where(PlanNode.id.in_(node_ids))
            ).all()
        )
        if node_ids
        else {}
    )
    current_stages = (
        dict(
            session.execute(
                sa.select(Household.id, Household.stage).where(Household.id.in_(household_ids))
            ).all()
        )
        if household_ids
        else {}
    )
    actual = (
        {
            (h, s): d
            for h, s, d in session.execute(
                sa.select(CaseStep.household_id, CaseStep.stage, CaseStep.actual_date).where(
                    CaseStep.household_id.in_(household_ids), CaseStep.actual_date.is_not(None)
                )
            )
        }
        if household_ids
        else {}
    )
    done: dict[int, date | bool | None] = {}
    for item in order.items:
        if item.kind == ItemKind.NODE:
            done[item.id] = finished.get(item.plan_node_id) if item.plan_node_id else True
        else:
            when = actual.get((item.household_id, item.stage))
            current = current_stages.get(item.household_id)
            reached = current is not None and stages.reached(current, item.stage)
            done[item.id] = when or (True if reached else None)
    return done


def open_item_count(session: Session, order: SupervisionOrder) -> int:
    return sum(1 for value in items_done(session, order).values() if not value)


def _check_date(day: date | None, order: SupervisionOrder, today: date, field_name: str) -> date:
    if day is None:
        raise RuleViolation(_("Enter the date."), field_name)
    if day > today:
        raise RuleViolation(_("The date cannot be in the future."), field_name)
    if day < order.issued_on:
        raise RuleViolation(
            _(
                "The date cannot be before the order was issued (%(date)s).",
                date=order.issued_on.isoformat(),
            ),
            field_name,
        )
    return day


def record_response(
    session: Session,
    order: SupervisionOrder,
    *,
    responded_on: date | None,
    text: str,
    user: User | None,
    today: date | None = None,
) -> SupervisionResponse:
    """反馈: the responsible unit's answer, with its date."""
    today = today or clock.today()
    if order.status == OrderStatus.CLOSED:
        raise RuleViolation(_("This order is closed."), "text")
    responded_on = _check_date(responded_on, order, today, "responded_on")
    text = (text or "").strip()
    if not text:
        raise RuleViolation(_("Enter what the unit answered."), "text")
    response = SupervisionResponse(
        responded_on=responded_on, text=text, recorded_by_id=user.id if user else None
    )
    order.responses.append(response)
    order.status = OrderStatus.RESPONDED
    session.flush()
    return response


def close_order(
    session: Session,
    order: SupervisionOrder,
    *,
    closed_on: date | None,
    note: str | None,
    user: User | None,
    today: date | None = None,
) -> int:
    """办结: close the order; returns how many of its items are still open (allowed, but said)."""
    today = today or clock.today()
    if order.status == OrderStatus.CLOSED:
        raise RuleViolation(_("This order is closed already."), "closed_on")
    closed_on = _check_date(closed_on, order, today, "closed_on")
    still_open = open_item_count(session, order)
    order.status = OrderStatus.CLOSED
    order.closed_on = closed_on
    order.closed_by_id = user.id if user else None
    order.closing_note = (note or "").strip() or None
    order.items_open_at_close = still_open
    session.flush()
    return still_open


def escalation_workdays(order: SupervisionOrder, today: date, calendar: WorkCalendar) -> int:
    """Working days an order not closed is past its rectification deadline (0 if not)."""
    if order.status == OrderStatus.CLOSED or today <= order.rectify_by:
        return 0
    return max(days_late(calendar, order.rectify_by, today), 1)


@dataclass
class OrderFilter:
    status: str | None = None  # open | closed | escalated
    unit: str | None = None


def list_orders(session: Session, filters: OrderFilter, today: date) -> list[SupervisionOrder]:
    """Orders, newest first, filtered by state (escalated: not closed and past the deadline)."""
    query = (
        sa.select(SupervisionOrder)
        .options(
            selectinload(SupervisionOrder.notice),
            selectinload(SupervisionOrder.items),
        )
        .order_by(SupervisionOrder.issued_on.desc(), SupervisionOrder.id.desc())
    )
    if filters.status == "open":
        query = query.where(SupervisionOrder.status != OrderStatus.CLOSED)
    elif filters.status == "closed":
        query = query.where(SupervisionOrder.status == OrderStatus.CLOSED)
    elif filters.status == "escalated":
        query = query.where(
            SupervisionOrder.status != OrderStatus.CLOSED, SupervisionOrder.rectify_by < today
        )
    if filters.unit:
        query = query.where(SupervisionOrder.responsible_unit == filters.unit)
    return list(session.scalars(query))


# --- the leader dashboard --------------------------------------------------------------------


@dataclass
class UnitDashboardRow:
    unit: str | None
    open_items: int = 0
    late_items: int = 0
    supervise_items: int = 0
    orders_open: int = 0
    orders_closed_on_time: int = 0
    orders_closed_late: int = 0
    orders_escalated: int = 0


def dashboard(
    session: Session, today: date, *, calendar: WorkCalendar | None = None
) -> list[UnitDashboardRow]:
    """Per responsible unit: open and late items now, and its orders (open, closed on time,
    closed late, escalated = open past the rectification deadline)."""
    rows: dict[str | None, UnitDashboardRow] = {}
    for summary in overdue_summary(session, OverdueFilter(), today, calendar=calendar):
        row = rows.setdefault(summary.unit, UnitDashboardRow(summary.unit))
        row.open_items = summary.total
        row.late_items = summary.late
        row.supervise_items = summary.by_level.get(Level.SUPERVISE, 0)
    orders = session.execute(
        sa.select(
            SupervisionOrder.responsible_unit,
            SupervisionOrder.status,
            SupervisionOrder.rectify_by,
            SupervisionOrder.closed_on,
        )
    ).all()
    for unit, status, rectify_by, closed_on in orders:
        row = rows.setdefault(unit, UnitDashboardRow(unit))
        if status == OrderStatus.CLOSED:
            if closed_on is not None and closed_on <= rectify_by:
                row.orders_closed_on_time += 1
            else:
                row.orders_closed_late += 1
        else:
            row.orders_open += 1
            if today > rectify_by:
                row.orders_escalated += 1
    return sorted(
        rows.values(),
        key=lambda r: (
            r.unit is None,
            -r.orders_escalated,
            -r.supervise_items,
            -r.late_items,
            r.unit or "",
        ),
    )


def dashboard_totals(rows: Sequence[UnitDashboardRow]) -> UnitDashboardRow:
    total = UnitDashboardRow(None)
    for row in rows:
        for name in (
            "open_items",
            "late_items",
            "supervise_items",
            "orders_open",
            "orders_closed_on_time",
            "orders_closed_late",
            "orders_escalated",
        ):
            setattr(total, name, getattr(total, name) + getattr(row, name))
    return total


def units_in_use(session: Session) -> list[str]:
    """Every responsible unit named in a plan or on an order (for the filters)."""
    names = set(
        session.scalars(
            sa.select(PlanNode.responsible_unit)
            .join(Plan, Plan.id == PlanNode.plan_id)
            .where(Plan.is_template.is_(False), PlanNode.responsible_unit.is_not(None))
            .distinct()
        )
    )
    names |= set(session.scalars(sa.select(SupervisionOrder.responsible_unit).distinct()))
    return sorted(names)


def group_of(items: Sequence[OverdueItem]) -> dict[str | None, list[OverdueItem]]:
    groups: dict[str | None, list[OverdueItem]] = defaultdict(list)
    for item in items:
        groups[item.responsible_unit].append(item)
    return groups
