"""Plans in the app: the working calendar from the database, templates, re-planning, and the
household deadlines that follow from the plans (DOMAIN.md, "Back-scheduling")."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from resettle import clock
from resettle.audit.services import record_event
from resettle.calendar import WorkCalendar, outside_calendar
from resettle.chinese import chinese, in_chinese
from resettle.db import utcnow
from resettle.errors import RuleViolation
from resettle.households.models import CaseStep, Household, Stage
from resettle.households.stages import SWAP_MODES, TRANSITION_STAGES
from resettle.months import add_months, months_between
from resettle.plans.models import CalendarDay, OfficialYear, Plan, PlanKind, PlanLink, PlanNode
from resettle.projects.models import ExpropriationProject
from resettle.scheduling import Dependency, Node, SchedulingError, schedule
from resettle.sites.models import ResettlementSite
from resettle.translate import gettext as _
from resettle.translate import lazy_gettext as _l

# The scheduler's messages are English ids; listed here so the catalog carries them.
SCHEDULER_MESSAGES = [
    _l("Dependencies form a cycle."),
    _l("Duplicate node id."),
    _l("Duration must be a whole number of working days."),
    _l("Duration must not be negative."),
    _l("Actual finish is before actual start."),
    _l("Actual date is in the future."),
    _l("Unknown predecessor %(predecessor)s."),
    _l("Lag must be a whole number of working days."),
    _l("Lag must not be negative."),
    _l("Date %(date)s is outside the working-day calendar (%(first)s to %(last)s)."),
    _l("Plan starts before the working-day calendar (%(first)s)."),
    _l("Forecast runs past the working-day calendar (%(last)s)."),
]


@dataclass(frozen=True)
class TemplateNode:
    key: str
    name: str
    duration: int
    after: tuple[tuple[str, int], ...] = ()
    stage: Stage | None = None
    responsible_unit: str | None = None


# Realistic durations in working days (a city estate: about three years from siting to handover).
DEFAULT_SITE_TEMPLATE = (
    TemplateNode("siting", "选址", 20, (), None, "自然资源和规划局"),
    TemplateNode("land_permit", "用地规划许可", 30, (("siting", 0),), None, "自然资源和规划局"),
    TemplateNode(
        "works_permit", "工程规划许可", 40, (("land_permit", 5),), None, "自然资源和规划局"
    ),
    TemplateNode("build_permit", "施工许可", 25, (("works_permit", 0),), None, "住房和城乡建设局"),
    TemplateNode("start", "开工", 0, (("build_permit", 0),), None, "区城投公司"),
    TemplateNode("topping", "主体封顶", 280, (("start", 0),), None, "区城投公司"),
    TemplateNode("acceptance", "竣工验收", 160, (("topping", 0),), None, "住房和城乡建设局"),
    TemplateNode(
        "handover", "交付", 20, (("acceptance", 0),), Stage.HANDED_OVER, "区房屋征收事务所"
    ),
)
DEFAULT_PROJECT_TEMPLATE = (
    TemplateNode("decision", "征收决定公告", 0, (), None, "区人民政府"),
    TemplateNode("survey", "入户调查", 30, (("decision", 0),), Stage.SURVEYED, "区房屋征收事务所"),
    TemplateNode("appraisal", "评估", 40, (("survey", 0),), Stage.APPRAISED, "房地产评估机构"),
    TemplateNode("signing", "签约", 60, (("appraisal", 0),), Stage.SIGNED, "区房屋征收事务所"),
    TemplateNode("vacating", "腾空交房", 30, (("signing", 0),), Stage.VACATED, "街道办事处"),
    TemplateNode("demolition", "拆除", 40, (("vacating", 0),), Stage.DEMOLISHED, "拆除施工单位"),
    TemplateNode("land_delivery", "净地交付", 0, (("demolition", 0),), None, "区土地储备中心"),
)


def app_calendar(session: Session | sa.Connection) -> WorkCalendar:
    """The China calendar with the days and official years admins entered."""
    days = session.execute(sa.select(CalendarDay.day, CalendarDay.working, CalendarDay.official))
    local_off, local_on = [], []
    official: dict[int, tuple[list[date], list[date]]] = {}
    entered_years = set(session.scalars(sa.select(OfficialYear.year)))
    for day, working, is_official in days:
        if is_official and day.year in entered_years:
            official.setdefault(day.year, ([], []))[1 if working else 0].append(day)
        elif not is_official:
            (local_on if working else local_off).append(day)
    for year in entered_years:
        official.setdefault(year, ([], []))
    return WorkCalendar(extra_off=local_off, extra_on=local_on, official_years=official)


def target_of(plan: Plan) -> date | None:
    """The promised date a plan is scheduled back from."""
    if plan.kind == PlanKind.PROJECT and plan.project is not None:
        return plan.project.land_delivery_date
    if plan.kind == PlanKind.SITE and plan.site is not None:
        return plan.site.promised_handover_date
    return None


def template_for(session: Session, kind: PlanKind) -> Plan:
    """The template plan of a kind, created from the defaults the first time it is needed."""
    template = session.scalar(
        sa.select(Plan).where(Plan.is_template.is_(True), Plan.kind == kind).order_by(Plan.id)
    )
    if template is not None:
        return template
    defaults = DEFAULT_PROJECT_TEMPLATE if kind == PlanKind.PROJECT else DEFAULT_SITE_TEMPLATE
    name = (
        chinese("Default expropriation plan")
        if kind == PlanKind.PROJECT
        else chinese("Default estate plan")
    )
    template = Plan(kind=kind, name=name, is_template=True)
    session.add(template)
    by_key: dict[str, PlanNode] = {}
    for position, spec in enumerate(defaults):
        node = PlanNode(
            key=spec.key,
            name=spec.name,
            position=position,
            duration=spec.duration,
            stage=spec.stage,
            responsible_unit=spec.responsible_unit,
        )
        node.predecessors = [PlanLink(predecessor=by_key[k], lag=lag) for k, lag in spec.after]
        by_key[spec.key] = node
        template.nodes.append(node)
    session.flush()
    return template


def copy_plan(session: Session, source: Plan, **owner: object) -> Plan:
    """A new plan with the source's nodes, links and responsibilities."""
    plan = Plan(kind=source.kind, name=source.name, is_template=False, **owner)
    session.add(plan)
    copies: dict[int, PlanNode] = {}
    for node in source.nodes:
        copies[node.id] = PlanNode(
            key=node.key,
            name=node.name,
            position=node.position,
            duration=node.duration,
            stage=node.stage,
            responsible_unit=node.responsible_unit,
            responsible_person=node.responsible_person,
            leader=node.leader,
        )
        plan.nodes.append(copies[node.id])
    for node in source.nodes:
        copies[node.id].predecessors = [
            PlanLink(predecessor=copies[link.predecessor_id], lag=link.lag)
            for link in node.predecessors
        ]
    session.flush()
    return plan


def plan_for_project(session: Session, project: ExpropriationProject) -> Plan:
    """The project's plan, copied from the template when it has none yet."""
    plan = session.scalar(sa.select(Plan).where(Plan.project_id == project.id))
    return plan or copy_plan(
        session, template_for(session, PlanKind.PROJECT), project_id=project.id
    )


def plan_for_site(session: Session, site: ResettlementSite) -> Plan:
    """The estate's plan, copied from the template when it has none yet."""
    plan = session.scalar(sa.select(Plan).where(Plan.site_id == site.id))
    return plan or copy_plan(session, template_for(session, PlanKind.SITE), site_id=site.id)


def _scheduling_message(plan: Plan, error: SchedulingError) -> str:
    params = dict(error.params)
    if "predecessor" in params:
        params["predecessor"] = str(params["predecessor"]).strip("'")
    text = _(error.message, **params) if params else _(error.message)
    node = next((n for n in plan.nodes if n.key == error.node_id), None)
    if node is not None:
        return _("%(node)s: %(problem)s", node=node.name, problem=text)
    return text


def schedule_nodes(
    plan: Plan, target: date, calendar: WorkCalendar, today: date
) -> dict[str, object]:
    """Run both passes over the plan's nodes; RuleViolation naming the node on bad input."""
    nodes = [
        Node(
            id=node.key,
            duration=node.duration,
            depends=tuple(Dependency(link.predecessor.key, link.lag) for link in node.predecessors),
            actual_start=node.actual_start,
            actual_finish=node.actual_finish,
        )
        for node in plan.nodes
    ]
    try:
        return schedule(nodes, target, calendar, today=today)
    except SchedulingError as error:
        raise RuleViolation(_scheduling_message(plan, error), "plan") from None


def replan(
    session: Session, plan: Plan, *, today: date | None = None, calendar: WorkCalendar | None = None
) -> ReplanResult:
    """Schedule the plan again and move the household deadlines that follow from it."""
    today = today or clock.today()
    target = target_of(plan)
    if plan.is_template or target is None:
        for node in plan.nodes:
            node.planned_start = node.planned_finish = None
            node.forecast_start = node.forecast_finish = None
            node.slip, node.critical, node.provisional = None, False, False
            node.forecast_provisional = False
        plan.schedule_error = (
            None if plan.is_template else chinese("No promised date: nothing to schedule from.")
        )
        session.flush()
        return ReplanResult()
    calendar = calendar or app_calendar(session)
    before = _stage_deadlines(plan)
    results = schedule_nodes(plan, target, calendar, today)
    for node in plan.nodes:
        r = results[node.key]
        node.planned_start, node.planned_finish = r.start, r.finish
        node.forecast_start, node.forecast_finish = r.forecast_start, r.forecast_finish
        node.slip, node.critical, node.provisional = r.slip, bool(r.critical), r.provisional
        node.forecast_provisional = r.forecast_provisional
    plan.scheduled_at = utcnow()
    plan.schedule_error = None
    session.flush()
    result = ReplanResult(before=before, after=_stage_deadlines(plan))
    if result.moved:
        record_event(
            session,
            "replan",
            "Plan",
            plan.id,
            {
                "deadlines": {
                    s.value: [before[s].isoformat() if before.get(s) else None, d.isoformat()]
                    for s, d in result.moved.items()
                }
            },
        )
        session.flush()
    return result


@dataclass(frozen=True)
class ReplanResult:
    """The deadline of each household stage set by this plan, before and after re-planning."""

    before: dict[Stage, date | None] = field(default_factory=dict)
    after: dict[Stage, date] = field(default_factory=dict)

    @property
    def moved(self) -> dict[Stage, date]:
        """The stages whose deadline changed, with the new deadline."""
        return {s: d for s, d in self.after.items() if self.before.get(s) != d}


def _stage_deadlines(plan: Plan) -> dict[Stage, date]:
    return {n.stage: n.planned_finish for n in plan.nodes if n.stage and n.planned_finish}


@dataclass(frozen=True)
class TransitionRisk:
    household_id: int
    case_number: str
    head_name: str
    vacated_on: date
    transition_end: date
    forecast_handover: date
    extra_months: int
    forecast_provisional: bool  # the forecast handover is provisional (暂定)


def months_started(start: date, end: date) -> int:
    """Whole months from start to end, a started month counting as one (0 when end <= start)."""
    return months_between(start, end, started_counts=True)


def transition_risks(session: Session, project: ExpropriationProject) -> list[TransitionRisk]:
    """Swap households in transition whose flat is forecast after their transition period ends."""
    if project.site_id is None:
        return []
    handover = session.scalar(
        sa.select(PlanNode)
        .join(Plan, Plan.id == PlanNode.plan_id)
        .where(Plan.site_id == project.site_id, PlanNode.stage == Stage.HANDED_OVER)
    )
    if handover is None:
        return []
    forecast = handover.forecast_finish or handover.planned_finish
    if forecast is None:
        return []
    provisional = (
        handover.forecast_provisional if handover.forecast_finish else handover.provisional
    )
    rows = session.execute(
        sa.select(Household.id, Household.case_number, Household.head_name, CaseStep.actual_date)
        .join(CaseStep, CaseStep.household_id == Household.id)
        .where(
            Household.project_id == project.id,
            Household.compensation_mode.in_(SWAP_MODES),
            Household.stage.in_(TRANSITION_STAGES),
            CaseStep.stage == Stage.VACATED,
            CaseStep.actual_date.is_not(None),
        )
        .order_by(CaseStep.actual_date, Household.case_number)
    )
    risks = []
    for household_id, case_number, head_name, vacated_on in rows:
        end = add_months(vacated_on, project.transition_months)
        if forecast > end:
            risks.append(
                TransitionRisk(
                    household_id,
                    case_number,
                    head_name,
                    vacated_on,
                    end,
                    forecast,
                    months_started(end, forecast),
                    provisional,
                )
            )
    return risks


def node_data_check(duration: int | None, lag_values: list[int]) -> None:
    """Shape checks the form cannot express: a duration and lags are whole numbers, zero or more."""
    if duration is None or duration < 0:
        raise RuleViolation(
            _("The duration is a whole number of working days, zero or more."), "duration"
        )
    if any(lag < 0 for lag in lag_values):
        raise RuleViolation(_("A lag is a whole number of working days, zero or more."), "lag")


def load_plan(session: Session, plan_id: int) -> Plan | None:
    """A plan with its nodes and links loaded."""
    return session.scalar(
        sa.select(Plan)
        .where(Plan.id == plan_id)
        .options(selectinload(Plan.nodes).selectinload(PlanNode.predecessors))
    )


@dataclass
class NodeData:
    """The editable fields of a plan node, as plain data."""

    name: str
    duration: int
    responsible_unit: str | None = None
    responsible_person: str | None = None
    leader: str | None = None
    stage: Stage | None = None
    actual_start: date | None = None
    actual_finish: date | None = None
    predecessors: tuple[tuple[int, int], ...] = ()  # (node id, lag)


def _key_for(plan: Plan, name: str) -> str:
    taken = {n.key for n in plan.nodes}
    n = len(plan.nodes) + 1
    while f"n{n}" in taken:
        n += 1
    return f"n{n}"


def check_calendar_date(day: date, field: str) -> None:
    """Refuse a date outside the working-day calendar the plans are counted in."""
    message = outside_calendar(day)
    if message is not None:
        raise RuleViolation(message, field)


def save_node(
    session: Session,
    plan: Plan,
    node: PlanNode | None,
    data: NodeData,
    *,
    today: date | None = None,
) -> PlanNode:
    """Create or change a node and re-plan at once; refused (nothing kept) on a bad network."""
    today = today or clock.today()
    data.name = (data.name or "").strip()
    if not data.name:
        raise RuleViolation(_("The node needs a name."), "name")
    node_data_check(data.duration, [lag for _id, lag in data.predecessors])
    if plan.is_template and (data.actual_start or data.actual_finish):
        field = "actual_start" if data.actual_start else "actual_finish"
        raise RuleViolation(_("A template has no actual dates; they belong to a plan."), field)
    if data.actual_finish and data.actual_start and data.actual_finish < data.actual_start:
        raise RuleViolation(_("The actual finish is before the actual start."), "actual_finish")
    for name in ("actual_start", "actual_finish"):
        value = getattr(data, name)
        if value is not None and value > today:
            raise RuleViolation(_("The date cannot be in the future."), name)
        if value is not None:
            check_calendar_date(value, name)
    if data.stage is not None:
        other = next((n for n in plan.nodes if n.stage == data.stage and n is not node), None)
        if other is not None:
            raise RuleViolation(
                _("%(node)s already sets this stage's deadlines.", node=other.name), "stage"
            )
    by_id = {n.id: n for n in plan.nodes}
    if node is None:
        node = PlanNode(key=_key_for(plan, data.name), position=len(plan.nodes))
        plan.nodes.append(node)
    for pred_id, _lag in data.predecessors:
        if pred_id not in by_id or by_id[pred_id] is node:
            raise RuleViolation(
                _("A node cannot follow itself or a node of another plan."), "predecessors"
            )
    node.name = data.name
    node.duration = data.duration
    node.responsible_unit = (data.responsible_unit or "").strip() or None
    node.responsible_person = (data.responsible_person or "").strip() or None
    node.leader = (data.leader or "").strip() or None
    node.stage = data.stage
    node.actual_start, node.actual_finish = data.actual_start, data.actual_finish
    wanted = dict(data.predecessors)  # predecessor id -> lag
    if wanted != {link.predecessor_id: link.lag for link in node.predecessors}:
        # a kept predecessor keeps its link row (a new row for the same pair would clash with
        # the old one, which the flush deletes only after inserting)
        links = []
        for link in node.predecessors:
            if link.predecessor_id in wanted:
                link.lag = wanted.pop(link.predecessor_id)
                links.append(link)
        links += [PlanLink(predecessor=by_id[p], lag=lag) for p, lag in sorted(wanted.items())]
        node.predecessors = links
    session.flush()
    replan(session, plan, today=today)
    return node


def delete_node(session: Session, plan: Plan, node: PlanNode, *, today: date | None = None) -> None:
    """Remove a node (and its links) and re-plan."""
    for other in plan.nodes:
        other.predecessors = [link for link in other.predecessors if link.predecessor_id != node.id]
    plan.nodes.remove(node)
    session.flush()
    replan(session, plan, today=today)


def replan_all(session: Session, *, today: date | None = None) -> None:
    """Re-plan every owned plan (after a calendar change, which moves every date)."""
    calendar = app_calendar(session)
    plans = session.scalars(sa.select(Plan).where(Plan.is_template.is_(False)).order_by(Plan.id))
    for plan in list(plans):
        replan_keeping_error(session, plan, today=today, calendar=calendar)
    session.flush()


def replan_keeping_error(
    session: Session, plan: Plan, *, today: date | None = None, calendar: WorkCalendar | None = None
) -> None:
    """Re-plan; a plan that cannot be scheduled keeps the reason, in Chinese like all stored
    text, for its page to show."""
    try:
        with in_chinese():
            replan(session, plan, today=today, calendar=calendar)
    except RuleViolation as exc:
        plan.schedule_error = exc.message[:300]


def replan_owner(
    session: Session,
    *,
    project_id: int | None = None,
    site_id: int | None = None,
    today: date | None = None,
) -> None:
    """Re-plan the plan of a project or estate whose promised date changed (if it has one)."""
    condition = Plan.project_id == project_id if project_id else Plan.site_id == site_id
    plan = session.scalar(sa.select(Plan).where(condition))
    if plan is not None:
        replan(session, plan, today=today)


def add_calendar_day(
    session: Session, day: date, *, working: bool, official: bool, note: str | None
) -> CalendarDay:
    """Enter a local or official day and re-plan everything that the calendar moves."""
    check_calendar_date(day, "day")
    if session.scalar(sa.select(CalendarDay.id).where(CalendarDay.day == day)):
        raise RuleViolation(
            _("%(day)s is entered already; remove it first to change it.", day=day.isoformat()),
            "day",
        )
    entry = CalendarDay(
        day=day, working=working, official=official, note=(note or "").strip() or None
    )
    session.add(entry)
    session.flush()
    replan_all(session)
    return entry


def remove_calendar_day(session: Session, entry: CalendarDay) -> None:
    """Remove an entered day and re-plan."""
    session.delete(entry)
    session.flush()
    replan_all(session)


def enter_official_year(session: Session, year: int, note: str | None) -> OfficialYear:
    """Mark a year's State Council schedule as entered: its dates stop being provisional."""
    if year not in app_calendar(session).provisional_years:
        raise RuleViolation(_("The holiday data of %(year)d is known already.", year=year), "year")
    entry = OfficialYear(year=year, note=(note or "").strip() or None)
    session.add(entry)
    session.flush()
    replan_all(session)
    return entry
