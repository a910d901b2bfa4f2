"""Helpers for the notice and supervision tests: plans with deadlines set by hand, a fixed day."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext
from sqlalchemy.orm import Session

from resettle.households.models import CaseStep, CompensationMode, Household, Stage
from resettle.plans.models import Plan, PlanKind, PlanNode
from resettle.projects.models import ExpropriationProject
from tests.sites import id_number

# Wednesday 18 June 2025 (the Dragon Boat holiday, 31 May to 2 June, is before every deadline).
TODAY = date(2025, 6, 18)
_serial = itertools.count(1)


def msg(msgid: str, **values: Any) -> str:
    """A message as the application shows it now (Chinese once the catalog holds it)."""
    return gettext(msgid, **values)


def add_project(session: Session, **overrides: Any) -> ExpropriationProject:
    n = next(_serial)
    values: dict[str, Any] = {
        "code": f"DB{n:03d}",
        "name": f"督办测试项目{n}",
        "decision_number": f"东政征决字〔2025〕{n}号",
        "decision_date": date(2025, 3, 10),
        "signing_start": date(2025, 3, 20),
        "signing_end": date(2025, 6, 30),
        "published": True,  # the no-leak test reads these projects' public pages
    }
    values.update(overrides)
    project = ExpropriationProject(**values)
    session.add(project)
    session.flush()
    return project


def add_plan(
    session: Session,
    *,
    project: ExpropriationProject | None = None,
    site_id: int | None = None,
    nodes: list[dict[str, Any]],
) -> Plan:
    """A plan whose nodes have the given deadlines (planned_finish), no scheduling involved.

    Each node: name, deadline, and optionally stage, unit, person, leader, done (actual date),
    provisional.
    """
    plan = Plan(
        kind=PlanKind.PROJECT if project is not None else PlanKind.SITE,
        name="测试计划",
        is_template=False,
        project_id=project.id if project is not None else None,
        site_id=site_id,
    )
    for position, spec in enumerate(nodes):
        plan.nodes.append(
            PlanNode(
                key=f"k{position}",
                name=spec["name"],
                position=position,
                duration=1,
                stage=spec.get("stage"),
                planned_start=spec["deadline"],
                planned_finish=spec["deadline"],
                actual_start=spec.get("done"),
                actual_finish=spec.get("done"),
                responsible_unit=spec.get("unit"),
                responsible_person=spec.get("person"),
                leader=spec.get("leader"),
                provisional=spec.get("provisional", False),
            )
        )
    session.add(plan)
    session.flush()
    return plan


def add_household(
    session: Session,
    project: ExpropriationProject,
    *,
    stage: Stage = Stage.SURVEYED,
    mode: CompensationMode | None = None,
    **overrides: Any,
) -> Household:
    """A household at `stage`, with an actual date on each step up to it."""
    n = next(_serial)
    values: dict[str, Any] = {
        "project": project,
        "case_number": f"{project.code}-{n:04d}",
        "head_name": f"李{'一二三四五六七八九十'[n % 10]}{'明华强'[n % 3]}",
        "head_id_number": id_number(n + 500),
        "house_address": f"东城区解放路{n}号",
        "legal_area": Decimal("85.32"),
        "compensation_mode": mode,
        "stage": stage,
    }
    values.update(overrides)
    household = Household(**values)
    order = list(Stage)
    for step_stage in order[: order.index(stage) + 1]:
        if mode == CompensationMode.MONEY and step_stage in (Stage.SELECTED, Stage.HANDED_OVER):
            continue
        household.steps.append(CaseStep(stage=step_stage, actual_date=date(2025, 4, 1)))
    session.add(household)
    session.flush()
    return household


#: The project plan most tests use: deadlines around TODAY (18 June 2025), in working days:
#: signing 3 June: 11 late (> M = 10: 督办); vacating 16 June: 2 late (警示);
#: demolition 25 June: due in 5 (提醒, N = 5); land delivery 26 June: due in 6 (not listed).
STANDARD_NODES = [
    {
        "name": "签约",
        "stage": Stage.SIGNED,
        "deadline": date(2025, 6, 3),
        "unit": "区房屋征收事务所",
        "person": "张建国",
        "leader": "周副区长",
    },
    {
        "name": "腾空交房",
        "stage": Stage.VACATED,
        "deadline": date(2025, 6, 16),
        "unit": "街道办事处",
        "person": "王秀英",
        "leader": "吴副区长",
    },
    {
        "name": "拆除",
        "stage": Stage.DEMOLISHED,
        "deadline": date(2025, 6, 25),
        "unit": "拆除施工单位",
        "person": "刘志强",
        "leader": "周副区长",
    },
    {"name": "净地交付", "deadline": date(2025, 6, 26), "unit": "区土地储备中心"},
]
