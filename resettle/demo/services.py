"""Deterministic demo data: two projects, one estate with 600 flats (more buildings when more
households need a flat), households at every stage."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from faker import Faker
from sqlalchemy.orm import Session

from resettle import clock
from resettle.auth.models import Role, User
from resettle.auth.services import create_user, generate_password, hash_password
from resettle.db import money
from resettle.disclosure.models import DisclosureKind
from resettle.disclosure.services import (
    DisclosureData,
    approve_disclosure,
    disclosures_missing_pdf,
    prepare_disclosure,
    store_disclosure_pdf,
    withdraw_disclosure,
)
from resettle.errors import RuleViolation
from resettle.households import stages
from resettle.households.models import CaseStep, CompensationMode, Household, HouseholdMember, Stage
from resettle.idnumbers import validate_id_number
from resettle.projects.models import ExpropriationProject
from resettle.sites.models import Building, ResettlementSite, Unit, UnitStatus

# Demo dates stop here so a seed gives the same data whatever day it runs (never in the future).
DEMO_AS_OF = date(2026, 11, 20)

DEMO_ACCOUNTS = [
    ("demo-admin", "系统管理员", Role.ADMIN, "征收办"),
    ("demo-caseworker", "王经办", Role.CASEWORKER, "东城区房屋征收事务所"),
    ("demo-supervisor", "李督查", Role.SUPERVISOR, "区委督查室"),
    ("demo-leader", "赵区长", Role.LEADER, "区人民政府"),
]

PROJECTS = [
    {
        "code": "ZQ2025-01",
        "name": "东城片区棚户区改造房屋征收项目",
        "decision_number": "东政征决字〔2025〕1号",
        "decision_date": date(2025, 3, 10),
        "signing_start": date(2025, 3, 20),
        "signing_end": date(2025, 6, 30),
        "land_delivery_date": date(2025, 12, 31),
        "transition_months": 24,
        "streets": ["解放路", "和平巷", "建设街", "东风里", "胜利巷"],
        "share": 0.6,
        # weight of each stage among this project's households (money-only skip two)
        "weights": [3, 5, 9, 10, 14, 20, 16, 13, 10],
    },
    {
        "code": "ZQ2025-02",
        "name": "滨江路拓宽工程房屋征收项目",
        "decision_number": "东政征决字〔2025〕7号",
        "decision_date": date(2025, 9, 15),
        "signing_start": date(2025, 10, 8),
        "signing_end": date(2026, 1, 31),
        "land_delivery_date": date(2026, 9, 30),
        "transition_months": 24,
        "streets": ["滨江路", "沿河街", "渡口巷", "码头路"],
        "share": 0.4,
        "weights": [18, 20, 22, 16, 14, 10, 0, 0, 0],
    },
]

SITE = {
    "name": "东城臻雅苑",
    "location": "东城区纬三路与经五路交叉口东北角",
    "promised_handover_date": date(2027, 6, 30),
    "buildings": 6,
    "complete_buildings": 2,  # phase one handed over in 2026
    "floors": 25,
    "entrances": ("1", "2"),
    "flats_per_floor": 2,
    "areas": [
        Decimal("60.12"),
        Decimal("75.38"),
        Decimal("89.96"),
        Decimal("105.40"),
        Decimal("119.85"),
        Decimal("134.27"),
    ],
}
PHASE_ONE_HANDOVER = date(2026, 8, 18)


def database_is_empty(session: Session) -> bool:
    """True when there are no projects and no households yet."""
    return (
        session.scalar(sa.select(sa.func.count()).select_from(ExpropriationProject)) == 0
        and session.scalar(sa.select(sa.func.count()).select_from(Household)) == 0
    )


def _next_date(rng: random.Random, after: date, low: int, high: int, limit: date) -> date | None:
    candidate = after + timedelta(days=rng.randint(low, high))
    return candidate if candidate <= limit else None


def _build_site(
    session: Session, rng: random.Random
) -> tuple[ResettlementSite, list[Unit], list[Unit]]:
    site = ResettlementSite(
        name=SITE["name"],
        location=SITE["location"],
        promised_handover_date=SITE["promised_handover_date"],
    )
    session.add(site)
    complete_units: list[Unit] = []
    other_units: list[Unit] = []
    for b in range(1, SITE["buildings"] + 1):
        complete = b <= SITE["complete_buildings"]
        (complete_units if complete else other_units).extend(
            _add_building(session, rng, site, complete=complete)
        )
    return site, complete_units, other_units


def _add_building(
    session: Session, rng: random.Random, site: ResettlementSite, *, complete: bool
) -> list[Unit]:
    """One more building of the estate (named by its number) with its flats, all available."""
    building = Building(
        site=site,
        name=f"{len(site.buildings) + 1}#楼",
        floors=SITE["floors"],
        complete=complete,
    )
    session.add(building)
    units = []
    for entrance in SITE["entrances"]:
        for floor in range(1, SITE["floors"] + 1):
            for flat in range(1, SITE["flats_per_floor"] + 1):
                unit = Unit(
                    building=building,
                    entrance=entrance,
                    floor=floor,
                    number=f"{floor}{flat:02d}",
                    area=rng.choice(SITE["areas"]),
                    status=UnitStatus.AVAILABLE,
                )
                session.add(unit)
                units.append(unit)
    return units


def _take_unit(
    session: Session,
    rng: random.Random,
    site: ResettlementSite,
    pools: dict[bool, list[Unit]],
    *,
    handed: bool,
) -> Unit:
    """A free flat for a household that selected one: in a complete building when it was
    handed over (else three in ten there too). When the estate has no such flat left, it
    gets another building, so any number of households finds a flat."""
    complete = handed or rng.random() < 0.3
    if not pools[complete] and not handed and pools[not complete]:
        complete = not complete  # a flat not yet handed over may be in either kind
    if not pools[complete]:
        extra = _add_building(session, rng, site, complete=complete)
        rng.shuffle(extra)
        pools[complete].extend(extra)
    return pools[complete].pop()


def _valid_id(fake: Faker, min_age: int, max_age: int) -> str:
    while True:
        try:
            return validate_id_number(fake.ssn(min_age=min_age, max_age=max_age))
        except RuleViolation:
            continue


def _members(fake: Faker, rng: random.Random) -> list[HouseholdMember]:
    members = []
    if rng.random() < 0.8:
        members.append(
            HouseholdMember(name=fake.name(), relation="配偶", id_number=_valid_id(fake, 30, 75))
        )
    for _ in range(rng.choice([0, 1, 1, 2])):
        members.append(
            HouseholdMember(name=fake.name(), relation="子女", id_number=_valid_id(fake, 3, 30))
        )
    if rng.random() < 0.2:
        members.append(
            HouseholdMember(name=fake.name(), relation="父母", id_number=_valid_id(fake, 60, 90))
        )
    return members


def seed_demo(
    session: Session, *, households: int = 400, seed: int = 2025, disclosure_pdfs: bool = False
) -> dict[str, int]:
    """Create the demo projects, estate, accounts and households; the same seed gives the same
    data. With `disclosure_pdfs` the published disclosures' PDFs are rendered too (as
    `flask demo seed` does, so the public PDF links work at once; the tests of the data leave
    them out: at 2,000 households they took most of the seed's time)."""
    rng = random.Random(seed)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    accounts = {}
    for username, full_name, role, unit_name in DEMO_ACCOUNTS:
        existing = session.scalar(sa.select(User).where(User.username == username))
        accounts[role] = existing or create_user(
            session,
            username,
            full_name,
            role,
            generate_password(),
            unit_name=unit_name,
            is_demo=True,
            all_projects=True,  # a demo shows every project
        )
    operator = accounts[Role.CASEWORKER]
    site, complete_units, other_units = _build_site(session, rng)
    rng.shuffle(complete_units)
    rng.shuffle(other_units)
    pools = {True: complete_units, False: other_units}
    created = 0
    projects = []
    for p_index, spec in enumerate(PROJECTS):
        project = ExpropriationProject(
            site=site,
            published=True,  # the demo's public pages show its projects
            **{
                k: spec[k]
                for k in (
                    "code",
                    "name",
                    "decision_number",
                    "decision_date",
                    "signing_start",
                    "signing_end",
                    "land_delivery_date",
                    "transition_months",
                )
            },
        )
        projects.append(project)
        session.add(project)
        session.flush()
        count = (
            households - created
            if p_index == len(PROJECTS) - 1
            else round(households * spec["share"])
        )
        selection_order = 0
        for n in range(1, count + 1):
            target = rng.choices(stages.STAGE_ORDER, weights=spec["weights"])[0]
            household = _make_household(fake, rng, project, spec, n, target)
            session.add(household)
            _record_steps(rng, project, household, target, operator)
            if stages.reached(household.stage, Stage.SELECTED) and stages.gets_flat(
                household.compensation_mode
            ):
                selection_order += 1
                household.selection_order = selection_order
                handed = household.stage != Stage.SELECTED
                unit = _take_unit(session, rng, site, pools, handed=handed)
                unit.household = household
                unit.status = UnitStatus.HANDED_OVER if handed else UnitStatus.ALLOCATED
        created += count
    session.flush()
    _make_plans(session, projects, site)
    _make_money(session, projects, rng, operator)
    _make_agreements(session, projects, accounts[Role.CASEWORKER])
    _make_disclosures(session, projects, accounts[Role.CASEWORKER], accounts[Role.SUPERVISOR])
    if disclosure_pdfs:
        for disclosure in disclosures_missing_pdf(session):
            store_disclosure_pdf(session, disclosure, user=accounts[Role.SUPERVISOR])
    return {
        "projects": len(PROJECTS),
        "households": created,
        "units": session.scalar(sa.select(sa.func.count()).select_from(Unit)),
    }


def _make_disclosures(
    session: Session,
    projects: list[ExpropriationProject],
    preparer: User,
    approver: User,
) -> None:
    """Published disclosures of every kind for 30 days from today, and one withdrawn and
    published again, so the public pages have something to show (their PDFs: seed_demo)."""
    today = clock.today()
    end = today + timedelta(days=30)
    for project in projects:
        for kind in DisclosureKind:
            data = DisclosureData(
                kind=kind,
                title=f"{project.name}{DEMO_DISCLOSURE_TITLES[kind]}公示",
                period_start=today,
                period_end=end,
            )
            try:
                disclosure = prepare_disclosure(session, project, data, user=preparer, today=today)
            except RuleViolation:  # no household at that stage yet
                continue
            approve_disclosure(session, disclosure, user=approver, today=today)
            if project is projects[-1] and kind == DisclosureKind.SURVEY:
                withdraw_disclosure(
                    session,
                    disclosure,
                    reason="部分房屋面积数据有误，更正后重新公示。",
                    user=approver,
                )
                again = prepare_disclosure(session, project, data, user=preparer, today=today)
                approve_disclosure(session, again, user=approver, today=today)


DEMO_DISCLOSURE_TITLES = {
    DisclosureKind.SURVEY: "调查登记结果",
    DisclosureKind.COMPENSATION: "分户补偿情况",
    DisclosureKind.SELECTION: "选房结果",
}


def _make_household(
    fake: Faker,
    rng: random.Random,
    project: ExpropriationProject,
    spec: dict,
    n: int,
    target: Stage,
) -> Household:
    street = rng.choice(spec["streets"])
    legal_area = money(Decimal(rng.randint(3500, 16000)) / 100)
    mode = rng.choices(list(CompensationMode), weights=[35, 50, 15])[0]
    if not stages.on_path(mode, target):
        mode = CompensationMode.SWAP  # money-only households never select a flat
    household = Household(
        project=project,
        case_number=f"{project.code}-{n:04d}",
        head_name=fake.name(),
        head_id_number=_valid_id(fake, 25, 85),
        phone=fake.phone_number(),
        house_address=f"东城区{street}{rng.randint(1, 260)}号",
        legal_area=legal_area,
        unregistered_area=money(Decimal(rng.choice([0, 0, 0, rng.randint(100, 2500)])) / 100),
        house_use=rng.choices(["住宅", "商住", "非住宅"], weights=[85, 10, 5])[0],
        stage=Stage.SURVEYED,
        members=_members(fake, rng),
    )
    if stages.reached(target, Stage.APPRAISED):
        price = money(Decimal(rng.randint(8200, 13800)))
        household.appraisal_unit_price = price
        household.appraisal_value = money(price * legal_area)
    if stages.reached(target, Stage.APPRAISED):  # (chosen; cleared again if it did not sign
        household.compensation_mode = mode  # and is not ready to)
        if mode != CompensationMode.MONEY:
            household.entitled_area = legal_area
    return household


def _record_steps(
    rng: random.Random,
    project: ExpropriationProject,
    household: Household,
    target: Stage,
    operator: User,
) -> None:
    """Actual dates in order, each after the previous one, none after DEMO_AS_OF."""
    gaps = {
        Stage.SURVEYED: (3, 40),
        Stage.APPRAISED: (10, 45),
        Stage.SIGNED: (5, 60),
        Stage.VACATED: (7, 40),
        Stage.DEMOLISHED: (5, 30),
        Stage.SELECTED: (20, 120),
        Stage.HANDED_OVER: (3, 40),
        Stage.SETTLED: (10, 60),
        Stage.CLOSED: (5, 30),
    }
    previous = project.decision_date or date(2025, 1, 1)
    reached = Stage.SURVEYED
    for stage in stages.STAGE_ORDER[: stages.rank(target) + 1]:
        if not stages.on_path(household.compensation_mode, stage):
            continue
        low, high = gaps[stage]
        if stage == Stage.HANDED_OVER:
            previous = max(previous, PHASE_ONE_HANDOVER)
        actual = _next_date(rng, previous, low, high, DEMO_AS_OF)
        if actual is None:
            break
        household.steps.append(
            CaseStep(stage=stage, actual_date=actual, operator_id=operator.id, note=None)
        )
        previous = actual
        reached = stage
    household.stage = reached
    ready = reached == Stage.APPRAISED and int(household.case_number[-4:]) % 2 == 0
    if not stages.reached(reached, Stage.SIGNED) and not ready:  # half of those appraised
        household.compensation_mode = None  # have chosen and are ready to sign
        household.entitled_area = None
    if not stages.reached(reached, Stage.APPRAISED):
        household.appraisal_unit_price = None
        household.appraisal_value = None


def _make_plans(
    session: Session, projects: list[ExpropriationProject], site: ResettlementSite
) -> None:
    """Plans from the templates, with responsibilities, and actual dates where the work is done."""
    from resettle.plans.services import plan_for_project, plan_for_site, replan

    people = ["张建国", "李卫东", "王秀英", "刘志强", "陈晓燕", "杨国平", "赵立新"]
    leaders = ["周副区长", "吴副区长"]
    for index, project in enumerate(projects):
        plan = plan_for_project(session, project)
        reached = dict(
            session.execute(
                sa.select(CaseStep.stage, sa.func.min(CaseStep.actual_date))
                .join(Household, Household.id == CaseStep.household_id)
                .where(Household.project_id == project.id, CaseStep.actual_date.is_not(None))
                .group_by(CaseStep.stage)
            ).all()
        )
        total = session.scalar(
            sa.select(sa.func.count())
            .select_from(Household)
            .where(Household.project_id == project.id)
        )
        for n, node in enumerate(plan.nodes):
            node.responsible_person = people[(n + index) % len(people)]
            node.leader = leaders[index % len(leaders)]
            if node.key == "decision":
                node.actual_start = node.actual_finish = project.decision_date
            elif node.stage is not None and node.stage in reached:
                node.actual_start = reached[node.stage]
                done = session.execute(
                    sa.select(sa.func.count(), sa.func.max(CaseStep.actual_date))
                    .join(Household, Household.id == CaseStep.household_id)
                    .where(
                        Household.project_id == project.id,
                        CaseStep.stage == node.stage,
                        CaseStep.actual_date.is_not(None),
                    )
                ).one()
                if done[0] == total:
                    node.actual_finish = done[1]
        replan(session, plan)
    plan = plan_for_site(session, site)
    done_dates = [
        date(2025, 3, 3),
        date(2025, 4, 7),
        date(2025, 6, 16),
        date(2025, 8, 4),
        date(2025, 9, 1),
    ]
    for n, node in enumerate(plan.nodes):
        node.responsible_person = people[(n + 3) % len(people)]
        node.leader = leaders[0]
        if n < 4:
            node.actual_start, node.actual_finish = done_dates[n], done_dates[n + 1]
        elif node.key == "start":
            node.actual_start = node.actual_finish = date(2025, 9, 1)
        elif node.key == "topping":
            node.actual_start = date(2025, 9, 2)
        # contract instalments for the estate's builder, paid when the node finishes
        node.payment_amount = {
            "topping": Decimal("60000000.00"),
            "acceptance": Decimal("90000000.00"),
            "handover": Decimal("30000000.00"),
        }.get(node.key)
    replan(session, plan)


RULES = {
    "moving_allowance_per_m2": Decimal("15.00"),
    "temporary_allowance_per_m2_month": Decimal("12.00"),
    "signing_bonus": Decimal("20000.00"),
    "price_within_entitled": Decimal("3200.00"),
    "band_m2": Decimal("10.00"),
    "price_first_band": Decimal("5800.00"),
    "price_beyond_band": Decimal("11500.00"),
    "overrun_tiers": "1:2",
    "compensation_due_days": 15,
    # 停产停业损失: 6 months × 20 yuan/m² of the area used for business
    "business_loss_method": "monthly",
    "business_loss_months": 6,
    "business_loss_per_m2_month": Decimal("20.00"),
    "lawful_unregistered_per_m2": Decimal("1200.00"),  # Art. 24: found lawful
    "hardship_subsidy": Decimal("5000.00"),  # 困难补助 per household
    "price_list": "\n".join(
        (
            "电表移装,块,200",
            "水表移装,块,150",
            "空调移装,台,300",
            "燃气移装,户,1500",
            "热水器移装,台,200",
            "电话移装,部,100",
            "有线电视移装,户,300",
            "宽带移装,户,200",
        )
    ),
}
# Fixtures of every seventh appraised household (by its position in the project), and one
# more set of every eleventh: (item, quantity).
DEMO_FIXTURES = (("空调移装", 2), ("电表移装", 1), ("水表移装", 1), ("宽带移装", 1))
DEMO_MORE_FIXTURES = (("燃气移装", 1), ("热水器移装", 1), ("有线电视移装", 1))
DEMO_FREE_LINE = ("院内果树补偿", Decimal("3600.00"), "经征收办集体研究，院内果树按评估价补偿")
# Money the district has lined up per project: enough at first, short later (a funding gap
# the fund plan shows months ahead).
SOURCES = {
    "ZQ2025-01": [
        ("fiscal", "区财政征收补偿专项资金", Decimal("200000000.00"), date(2025, 3, 1)),
        ("special_bond", "2025年第一批土地储备专项债", Decimal("79000000.00"), date(2025, 6, 1)),
        ("platform", "区城投公司融资", Decimal("40000000.00"), date(2027, 8, 1)),
    ],
    "ZQ2025-02": [
        ("fiscal", "区财政征收补偿专项资金", Decimal("120000000.00"), date(2025, 9, 1)),
        ("special_bond", "2026年第一批土地储备专项债", Decimal("60000000.00"), date(2026, 4, 1)),
    ],
}


def _demo_items(session: Session, household: Household, n: int, operator: User | None) -> None:
    """The other items of the catalogue for some appraised households, by their position `n`
    in the project (no random draws: the rest of the demo stays as it was): decoration for
    every fourth, fixtures for every seventh (more for every eleventh), the area used for
    business of a 商住 house, half the unregistered area found lawful for every third that has
    one, a hardship case, and one free line."""
    from resettle.funds.services import add_adjustment
    from resettle.households.models import HouseholdFixture

    if household.appraisal_value is None:
        return
    if n % 4 == 1:
        household.decoration_value = money(household.legal_area * Decimal(180 + 40 * (n % 5)))
    counts = (DEMO_FIXTURES if n % 7 == 3 else ()) + (DEMO_MORE_FIXTURES if n % 11 == 5 else ())
    household.fixtures.extend(
        HouseholdFixture(name=name, quantity=Decimal(quantity)) for name, quantity in counts
    )
    if household.house_use == "商住":
        household.business_area = money(household.legal_area * Decimal("0.40"))
    if household.unregistered_area and n % 3 == 0:
        household.lawful_unregistered_area = money(household.unregistered_area / 2)
    if n in (5, 41):
        household.hardship = "低保" if n == 5 else "重度残疾"
    if n == 2 and household.project.code == PROJECTS[0]["code"]:
        label, amount, reason = DEMO_FREE_LINE
        add_adjustment(session, household, label=label, amount=amount, reason=reason, user=operator)


def _make_money(
    session: Session,
    projects: list[ExpropriationProject],
    rng: random.Random,
    operator: User | None = None,
) -> None:
    """Rules, fund sources, and what every vacated household was paid before it moved out: all
    that was due then (先补偿、后搬迁 in full), as compensation (the house and its other items),
    moving allowance and bonus."""
    from resettle.db import money
    from resettle.funds.compensation import signing_reward
    from resettle.funds.models import PaymentKind, SourceKind
    from resettle.funds.services import (
        RuleData,
        add_fund_source,
        create_rule_version,
        due_before_moving,
        facts_of,
        terms_of,
    )

    for project in projects:
        rule = create_rule_version(
            session, project, RuleData(effective_from=project.decision_date, **RULES)
        )
        terms = terms_of(rule, project)
        for kind, name, amount, available_on in SOURCES[project.code]:
            add_fund_source(
                session,
                project,
                kind=SourceKind(kind),
                name=name,
                amount=amount,
                available_on=available_on,
            )
        households = session.scalars(
            sa.select(Household).where(Household.project_id == project.id).order_by(Household.id)
        )
        for n, household in enumerate(households, start=1):
            _demo_items(session, household, n, operator)
            steps = {s.stage: s.actual_date for s in household.steps if s.actual_date}
            if Stage.SIGNED in steps:
                household.rule_id = rule.id
            if Stage.VACATED in steps:
                signed, vacated = steps[Stage.SIGNED], steps[Stage.VACATED]
                paid_on = signed + timedelta(days=rng.randint(0, max((vacated - signed).days, 0)))
                owed = due_before_moving(session, household, by=vacated)  # a swap: net
                moving = min(money(household.legal_area * rule.moving_allowance_per_m2), owed.due)
                bonus = min(signing_reward(facts_of(household), terms), owed.due - moving)
                parts = (
                    (PaymentKind.COMPENSATION, owed.due - moving - bonus, "PZ"),
                    (PaymentKind.MOVING_ALLOWANCE, moving, "BQ"),
                    (PaymentKind.BONUS, bonus, "JL"),
                )
                _pay(session, household, parts, paid_on, f"{project.code}-{{}}-{household.id:05d}")
    session.flush()
    _settle_demo_households(session, projects)


def _settle_demo_households(session: Session, projects: list[ExpropriationProject]) -> None:
    """A settled (结算办证) or closed case owes nothing either way: on its settlement day the
    temporary allowance accrued is paid, and the rest of the difference paid out (差价结算) or
    received from the household (收款), so its balance reads 已结清."""
    from resettle.funds.models import PaymentKind
    from resettle.funds.services import household_money

    settled = session.scalars(
        sa.select(Household)
        .where(
            Household.project_id.in_([p.id for p in projects]),
            Household.stage.in_([Stage.SETTLED, Stage.CLOSED]),
        )
        .order_by(Household.id)
    )
    for household in settled:
        day = next(s.actual_date for s in household.steps if s.stage == Stage.SETTLED)
        figures = household_money(session, household, as_of=day)
        if figures is None:
            continue
        allowance = sum(
            (line.amount for line in figures.lines if line.key.startswith("allowance")),
            Decimal("0.00"),
        )
        rest = figures.outstanding - allowance
        parts = [(PaymentKind.TEMPORARY_ALLOWANCE, allowance, "GD")]
        if rest > 0:
            parts.append((PaymentKind.SETTLEMENT, rest, "JS"))
        elif rest < 0:
            parts.append((PaymentKind.RECEIPT, -rest, "SK"))
        _pay(session, household, parts, day, f"{household.case_number}-{{}}")
        session.flush()


def _pay(
    session: Session,
    household: Household,
    parts: Sequence[tuple[Any, Decimal, str]],
    day: date,
    voucher: str,
) -> None:
    """The demo's payments of a household on a day: (kind, amount, voucher code) each, the
    voucher number made from `voucher` with the code in its {}; nothing for an amount of 0."""
    from resettle.funds.models import Payment

    for kind, amount, code in parts:
        if amount > 0:
            session.add(
                Payment(
                    household=household,
                    kind=kind,
                    amount=amount,
                    paid_on=day,
                    voucher_number=voucher.format(code),
                    payee=household.head_name,
                )
            )


#: How many of each project's most recently signed households (not vacated yet) get their
#: agreement issued in the demo; the others signed on paper before the system.
DEMO_AGREEMENTS = 6


def _make_agreements(
    session: Session, projects: list[ExpropriationProject], caseworker: User
) -> None:
    """The agreements of the households that signed last, issued as a caseworker would (one
    document per project, on the demo's day)."""
    from resettle.agreements.services import issue_agreements

    for project in projects:
        signed = session.scalars(
            sa.select(Household)
            .join(CaseStep, CaseStep.household_id == Household.id)
            .where(
                Household.project_id == project.id,
                Household.stage == Stage.SIGNED,
                CaseStep.stage == Stage.SIGNED,
            )
            .order_by(CaseStep.actual_date.desc(), Household.id)
            .limit(DEMO_AGREEMENTS)
        ).all()
        if signed:
            issue_agreements(session, signed, user=caseworker, today=DEMO_AS_OF)


def reset_demo_accounts(session: Session) -> list[tuple[str, str, str]]:
    """New random passwords for the demo accounts; returns (username, role, password)."""
    out = []
    for user in session.scalars(sa.select(User).where(User.is_demo.is_(True)).order_by(User.id)):
        password = generate_password()
        user.password_hash = hash_password(password)
        user.failed_logins = 0
        user.locked_until = None
        user.end_sessions()
        out.append((user.username, user.role.value, password))
    session.flush()
    return out
