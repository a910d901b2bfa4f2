"""Projects (片区) are the boundary: an account bounded by projects sees nothing of another."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_login import login_user
from openpyxl import load_workbook

from resettle.agreements.models import Agreement, AgreementKind
from resettle.auth.models import Role, User
from resettle.auth.policy import AccessPolicy
from resettle.dashboard.services import dashboard_figures
from resettle.disclosure.models import Disclosure, DisclosureKind
from resettle.documents.models import ArchivedDocument
from resettle.extensions import db
from resettle.funds.models import Payment, PaymentKind
from resettle.households.ledger import export_households
from resettle.households.models import (
    CaseStep,
    Household,
    HouseholdAdjustment,
    HouseholdMember,
    Stage,
)
from resettle.households.queries import HouseholdFilter
from resettle.jobs.models import Job
from resettle.notices.models import Notice, NoticeType
from resettle.plans.models import Plan, PlanKind, PlanNode
from resettle.projects.models import ExpropriationProject
from resettle.projects.scope import all_projects_visible, visible_project_ids
from resettle.projects.services import all_projects
from resettle.sites.models import Building, ResettlementSite, Unit
from resettle.supervision.levels import Level
from resettle.supervision.models import ItemKind, SupervisionItem, SupervisionOrder
from resettle.supervision.overdue import OverdueFilter, overdue_items

# Routes with an id that name nothing a project owns.
NOT_PROJECT_OWNED = {
    "static",
    "plans.remove_day",
    "plans.open_template",
    "households.import_report",
    "households.import_preview",
}


def _world(
    make_project: Callable[..., ExpropriationProject],
    make_household: Callable[..., Household],
    author: User,
    tag: str,
    n: int,
) -> dict[str, Any]:
    """A project with its own estate and one of everything under it."""
    site = ResettlementSite(name=f"安置小区{tag}")
    project = make_project(site=site)
    household = make_household(project=project, stage=Stage.SIGNED)
    db.session.add(HouseholdMember(household=household, name="李四", relation="配偶"))
    db.session.add(
        CaseStep(household_id=household.id, stage=Stage.SIGNED, actual_date=date(2025, 4, 1))
    )
    # Late: to vacate by 5 April, not done.
    db.session.add(
        CaseStep(household_id=household.id, stage=Stage.VACATED, deadline=date(2025, 4, 7))
    )
    building = Building(site=site, name=f"{tag}1号楼", floors=6)
    unit = Unit(building=building, entrance="1", floor=1, number="101", area=Decimal("90.00"))
    payment = Payment(
        household_id=household.id,
        kind=PaymentKind.COMPENSATION,
        amount=Decimal("1000.00"),
        paid_on=date(2025, 4, 2),
        voucher_number=f"PZ-{tag}",
        payee="张三",
    )
    document = ArchivedDocument(pdf=b"%PDF", sha256="0" * 64, size=4, pages=1, notice_count=1)
    notice = Notice(
        type=NoticeType.SIGNING,
        year=2025,
        sequence=n,
        number=f"通知〔2025〕{tag}号",
        check_code=f"CK{tag}",
        household_id=household.id,
        document=document,
        issued_on=date(2025, 4, 3),
    )
    order_notice = Notice(
        type=NoticeType.SUPERVISION,
        year=2025,
        sequence=n,
        number=f"督办〔2025〕{tag}号",
        check_code=f"DB{tag}",
        document=document,
        issued_on=date(2025, 4, 3),
    )
    order = SupervisionOrder(
        notice=order_notice,
        responsible_unit="征收办",
        issued_on=date(2025, 4, 3),
        rectify_workdays=5,
        rectify_by=date(2025, 4, 10),
    )
    order.items.append(
        SupervisionItem(
            kind=ItemKind.STEP,
            household_id=household.id,
            stage=Stage.SIGNED,
            scope=project.name,
            subject=household.case_number,
            deadline=date(2025, 4, 1),
            days_late=2,
            level=Level.WARN,
        )
    )
    plan = Plan(kind=PlanKind.PROJECT, name=f"计划{tag}", project=project)
    node = PlanNode(plan=plan, key="n1", name="入户调查", duration=5)
    disclosure = Disclosure(
        project_id=project.id,
        kind=DisclosureKind.COMPENSATION,
        title=f"公示{tag}",
        period_start=date(2025, 4, 1),
        period_end=date(2025, 4, 30),
        snapshot_sha256=hashlib.sha256(tag.encode()).hexdigest(),
        snapshot_as_of=date(2025, 4, 30),
        prepared_by_id=author.id,
    )
    agreement = Agreement(
        kind=AgreementKind.MONEY,
        year=2025,
        sequence=n,
        number=f"协议〔2025〕{tag}号",
        check_code=f"XY{tag}",
        household_id=household.id,
        document=document,
        signed_on=date(2025, 4, 1),
        total=Decimal("1000.00"),
        before_moving=Decimal("1000.00"),
        figures={},
    )
    adjustment = HouseholdAdjustment(
        household_id=household.id, label="其他补偿", amount=Decimal("100.00"), reason="会议决定"
    )
    db.session.add_all(
        [
            building,
            unit,
            payment,
            document,
            notice,
            order,
            plan,
            node,
            disclosure,
            agreement,
            adjustment,
        ]
    )
    db.session.flush()
    job = Job(
        token=f"{n:032x}",
        kind="notice_batch",
        title="批量",
        user_id=author.id,
        project_id=project.id,
        params={},
    )
    db.session.add(job)
    db.session.flush()
    return {
        "token": job.token,
        "project_id": project.id,
        "owner_id": project.id,
        "household_id": household.id,
        "site_id": site.id,
        "building_id": building.id,
        "unit_id": unit.id,
        "payment_id": payment.id,
        "adjustment_id": adjustment.id,
        "notice_id": notice.id,
        "agreement_id": agreement.id,
        "document_id": document.id,
        "order_id": order.id,
        "plan_id": plan.id,
        "node_id": node.id,
        "disclosure_id": disclosure.id,
        "entity_id": household.id,
        "user_id": author.id,  # accounts: admin-only routes, refused to these roles
        "entity_type": "Household",
        "kind": "project",
    }


@pytest.fixture
def worlds(
    make_project: Callable[..., ExpropriationProject],
    make_household: Callable[..., Household],
    make_user: Callable[..., User],
) -> tuple[dict[str, Any], dict[str, Any]]:
    author = make_user(Role.CASEWORKER)
    return (
        _world(make_project, make_household, author, "甲", 1),
        _world(make_project, make_household, author, "乙", 2),
    )


def _id_rules(app: Flask) -> list[Any]:
    rules = [
        rule
        for rule in app.url_map.iter_rules()
        if rule.arguments
        and rule.endpoint not in NOT_PROJECT_OWNED
        and not rule.endpoint.startswith("public.")
    ]
    assert len(rules) > 30  # the walk covers the app, not an empty list
    return rules


@pytest.mark.parametrize("role", [Role.CASEWORKER, Role.SUPERVISOR, Role.LEADER])
def test_every_route_with_an_id_answers_404_for_another_projects_object(
    app: Flask,
    client: FlaskClient,
    login_as: Callable[..., User],
    worlds: tuple[dict[str, Any], dict[str, Any]],
    role: Role,
) -> None:
    own, other = worlds
    user = login_as(role, projects=[db.session.get(ExpropriationProject, own["project_id"])])
    refused = []
    for rule in _id_rules(app):
        url = rule.build({name: other[name] for name in rule.arguments}, append_unknown=False)[1]
        policy: AccessPolicy = app.view_functions[rule.endpoint].access_policy
        expected = 404 if policy.allows(user) else 403
        method = "GET" if "GET" in rule.methods else "POST"
        status = client.open(url, method=method).status_code
        if status != expected:
            refused.append((rule.endpoint, method, url, status, expected))
    assert refused == []


def test_own_projects_objects_stay_reachable(
    client: FlaskClient,
    login_as: Callable[..., User],
    worlds: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    own, other = worlds
    login_as(Role.CASEWORKER, projects=[db.session.get(ExpropriationProject, own["project_id"])])
    for url in (
        f"/households/{own['household_id']}",
        f"/sites/{own['site_id']}",
        f"/plans/{own['plan_id']}",
        f"/notices/{own['notice_id']}",
        f"/supervision/orders/{own['order_id']}",
        f"/disclosures/{own['disclosure_id']}",
    ):
        assert client.get(url).status_code == 200, url
    page = client.get("/households/").get_data(as_text=True)
    assert "甲" in page or own["household_id"]
    listing = client.get("/households/").get_data(as_text=True)
    other_case = db.session.get(Household, other["household_id"]).case_number
    own_case = db.session.get(Household, own["household_id"]).case_number
    assert own_case in listing
    assert other_case not in listing


def test_an_account_given_every_project_sees_both(
    client: FlaskClient,
    login_as: Callable[..., User],
    worlds: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    own, other = worlds
    login_as(Role.LEADER, all_projects=True)
    assert client.get(f"/households/{other['household_id']}").status_code == 200
    listing = client.get("/households/").get_data(as_text=True)
    assert db.session.get(Household, other["household_id"]).case_number in listing
    assert db.session.get(Household, own["household_id"]).case_number in listing


@contextmanager
def _as(app: Flask, user: User, path: str = "/households/") -> Iterator[None]:
    """Inside a staff page's request, logged in as `user`."""
    with app.test_request_context(path):
        login_user(user)
        yield


def test_lists_counts_exports_and_the_overdue_list_are_scoped(
    app: Flask,
    make_user: Callable[..., User],
    worlds: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    own, other = worlds
    bounded = make_user(
        Role.SUPERVISOR, projects=[db.session.get(ExpropriationProject, own["project_id"])]
    )
    everyone = make_user(Role.SUPERVISOR, all_projects=True)
    today = date(2025, 5, 6)
    seen = {}
    for name, user in (("bounded", bounded), ("everyone", everyone)):
        with _as(app, user):
            figures = dashboard_figures(db.session)
            _summaries, items = overdue_items(db.session, OverdueFilter(), today)
            book = load_workbook(
                io.BytesIO(export_households(db.session, HouseholdFilter(), full_ids=False))
            )
            seen[name] = {
                "households": figures.total_households,
                "dashboard projects": sorted(row.id for row in figures.projects),
                "dashboard sites": sorted(row.id for row in figures.sites),
                "picker": sorted(project.id for project in all_projects()),
                "overdue households": sorted(
                    item.household_id for item in items if item.household_id
                ),
                "exported rows": book.active.max_row - 1,
                "units": db.session.scalar(sa.select(sa.func.count()).select_from(Unit)),
            }
    assert seen["bounded"] == {
        "households": 1,
        "dashboard projects": [own["project_id"]],
        "dashboard sites": [own["site_id"]],
        "picker": [own["project_id"]],
        "overdue households": [own["household_id"]],
        "exported rows": 1,
        "units": 1,
    }
    assert seen["everyone"] == {
        "households": 2,
        "dashboard projects": sorted([own["project_id"], other["project_id"]]),
        "dashboard sites": sorted([own["site_id"], other["site_id"]]),
        "picker": sorted([own["project_id"], other["project_id"]]),
        "overdue households": sorted([own["household_id"], other["household_id"]]),
        "exported rows": 2,
        "units": 2,
    }


def test_a_shared_estate_is_seen_by_each_project_using_it(
    app: Flask,
    make_project: Callable[..., ExpropriationProject],
    make_user: Callable[..., User],
) -> None:
    shared = ResettlementSite(name="共用安置小区")
    east, west = make_project(site=shared), make_project(site=shared)
    user = make_user(Role.CASEWORKER, projects=[east])
    with _as(app, user):
        assert db.session.scalars(sa.select(ResettlementSite)).all() == [shared]
        assert db.session.get(ExpropriationProject, west.id) is None
        assert db.session.get(ResettlementSite, shared.id) is shared


def test_code_that_must_see_everything_lifts_the_scope(
    app: Flask,
    make_user: Callable[..., User],
    worlds: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    own, other = worlds
    user = make_user(
        Role.CASEWORKER, projects=[db.session.get(ExpropriationProject, own["project_id"])]
    )
    with _as(app, user):
        assert visible_project_ids() == {own["project_id"]}
        assert db.session.get(Household, other["household_id"]) is None
        with all_projects_visible():
            assert visible_project_ids() is None
            assert db.session.get(Household, other["household_id"]) is not None
        assert db.session.get(Household, other["household_id"]) is None
    # Outside a request (CLI, jobs) nothing is bounded.
    assert visible_project_ids() is None


def test_an_alias_is_bounded_by_its_own_columns(
    app: Flask,
    make_user: Callable[..., User],
    worlds: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    """A subquery over aliased(Household) (the overdue list on PostgreSQL) gets the bound on
    the alias: naming the outer table there made PostgreSQL run the subquery once per row,
    and the overdue list of a bounded account at 100,000 households never came back."""
    own, other = worlds
    user = make_user(
        Role.CASEWORKER, projects=[db.session.get(ExpropriationProject, own["project_id"])]
    )
    owner = sa.orm.aliased(Household, name="owner")
    inner = sa.select(CaseStep.household_id).join(owner, owner.id == CaseStep.household_id)
    statements: list[str] = []

    def keep(conn, cursor, statement, *args):  # noqa: ANN001, ANN002
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", keep)
    try:
        with _as(app, user):
            ids = set(db.session.scalars(sa.select(Household.id).where(Household.id.in_(inner))))
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", keep)
    assert other["household_id"] not in ids and own["household_id"] in ids
    joined = " ".join(statements[-1].split())
    assert "owner.project_id IN" in joined
    # the same statement for an account of the other project: its own rows, not a cached bound
    across = make_user(
        Role.CASEWORKER, projects=[db.session.get(ExpropriationProject, other["project_id"])]
    )
    with _as(app, across):
        ids = set(db.session.scalars(sa.select(Household.id).where(Household.id.in_(inner))))
        steps = set(db.session.scalars(sa.select(CaseStep.household_id)))
    assert own["household_id"] not in ids and other["household_id"] in ids
    assert steps == {other["household_id"]}
