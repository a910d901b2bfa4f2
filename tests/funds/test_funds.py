"""Fund scheduling: rule versions, a household's money, reversals, the fund plan, integrity."""

import ast
import json
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest
import sqlalchemy as sa

from resettle.audit.models import AuditEvent
from resettle.audit.services import acting_as
from resettle.auth.models import Role
from resettle.demo.services import seed_demo
from resettle.errors import RuleViolation
from resettle.extensions import db
from resettle.funds.models import PaymentKind, SourceKind
from resettle.funds.services import (
    RuleData,
    add_fund_source,
    allowance_statement,
    create_rule_version,
    fund_plan,
    household_money,
    project_totals,
    reverse_payment,
)
from resettle.households.models import CaseStep, CompensationMode, Household, Stage
from resettle.households.services import record_payment, record_step
from resettle.projects.models import ExpropriationProject

RULE = dict(
    moving_allowance_per_m2=D("15"),
    temporary_allowance_per_m2_month=D("12"),
    signing_bonus=D("5000"),
    price_within_entitled=D("3000"),
    band_m2=D("10"),
    price_first_band=D("5000"),
    price_beyond_band=D("12000"),
)


def _rule(project, **overrides):
    data = RuleData(effective_from=date(2025, 3, 1), **{**RULE, **overrides})
    return create_rule_version(db.session, project, data)


def test_a_new_rule_version_leaves_signed_households_on_theirs(make_project, make_household):
    project = make_project(signing_start=date(2025, 3, 20), signing_end=date(2025, 6, 30))
    first = _rule(project)
    household = make_household(
        project=project,
        stage=Stage.APPRAISED,
        appraisal_unit_price=D("10000"),
        appraisal_value=D("853200"),
        compensation_mode=CompensationMode.MONEY,
    )
    household.steps.append(CaseStep(stage=Stage.APPRAISED, actual_date=date(2025, 4, 1)))
    db.session.flush()
    record_step(
        db.session,
        household,
        Stage.SIGNED,
        date(2025, 5, 10),
        operator=None,
        today=date(2025, 12, 1),
    )
    assert household.rule_id == first.id
    second = create_rule_version(
        db.session,
        project,
        RuleData(effective_from=date(2025, 9, 1), **{**RULE, "moving_allowance_per_m2": D("30")}),
    )
    assert second.version == 2
    money = household_money(db.session, household, as_of=date(2025, 12, 1))
    assert money.rule.version == 1
    moving = next(line for line in money.lines if line.key == "moving")
    assert moving.amount == D("1279.80")  # 85.32 × 15, not × 30


def test_bad_overrun_tiers_are_refused(make_project):
    project = make_project()
    with pytest.raises(RuleViolation, match="1:2"):
        _rule(project, overrun_tiers="twice")


def test_payment_lowers_outstanding_and_a_reversal_restores_it(
    make_project, make_household, make_user
):
    project = make_project()
    _rule(project)
    household = make_household(
        project=project,
        stage=Stage.SIGNED,
        appraisal_value=D("600000"),
        compensation_mode=CompensationMode.MONEY,
    )
    household.steps.append(CaseStep(stage=Stage.SIGNED, actual_date=date(2025, 7, 5)))
    db.session.flush()
    before = household_money(db.session, household, as_of=date(2025, 8, 1))
    assert before.total == D("601279.80") and before.outstanding == D("601279.80")
    payment = record_payment(
        db.session,
        household,
        kind=PaymentKind.COMPENSATION,
        amount=D("600000"),
        paid_on=date(2025, 7, 10),
        voucher_number="V1",
        payee="",
        operator=None,
        today=date(2025, 8, 1),
    )
    after = household_money(db.session, household, as_of=date(2025, 8, 1))
    assert after.paid == D("600000.00") and after.outstanding == D("1279.80")
    reverse_payment(db.session, payment, reason="凭证号录错", user=make_user(Role.SUPERVISOR))
    assert household_money(db.session, household, as_of=date(2025, 8, 1)).outstanding == D(
        "601279.80"
    )
    event = db.session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.entity_type == "Payment",
            AuditEvent.entity_id == payment.id,
            AuditEvent.action == "update",
        )
    )
    assert event.changes["reversal_reason"] == [None, "凭证号录错"]
    with pytest.raises(RuleViolation):
        reverse_payment(db.session, payment, reason="again", user=make_user(Role.SUPERVISOR))


def test_fund_plan_shows_the_first_shortfall_month(make_project, make_household):
    project = make_project()
    _rule(project, compensation_due_days=10)
    for _n, signed in enumerate((date(2025, 4, 1), date(2025, 6, 2))):
        h = make_household(
            project=project,
            stage=Stage.SIGNED,
            appraisal_value=D("500000"),
            compensation_mode=CompensationMode.MONEY,
        )
        h.steps.append(CaseStep(stage=Stage.SIGNED, actual_date=signed))
    db.session.flush()
    add_fund_source(
        db.session,
        project,
        kind=SourceKind.FISCAL,
        name="财政",
        amount=D("700000"),
        available_on=date(2025, 3, 1),
    )
    plan = fund_plan(db.session, project, today=date(2025, 3, 15))
    months = {row.month: row for row in plan.months}
    # each household: 500,000 + 85.32 × 15 + 5,000 bonus (inside the window) = 506,279.80,
    # due 10 days after signing
    assert months["2025-04"].planned == D("506279.80")
    assert months["2025-06"].planned == D("506279.80")
    assert months["2025-03"].balance == D("700000.00")
    assert months["2025-04"].balance == D("193720.20")
    assert months["2025-06"].balance == D("-312559.60")
    assert plan.first_shortfall_month == "2025-06"
    add_fund_source(
        db.session,
        project,
        kind=SourceKind.SPECIAL_BOND,
        name="专项债",
        amount=D("400000"),
        available_on=date(2025, 5, 20),
    )
    assert fund_plan(db.session, project, today=date(2025, 3, 15)).first_shortfall_month is None


def test_forecast_overrun_shows_as_extra_allowance(make_project, make_household):
    from resettle.plans.services import plan_for_site, replan
    from resettle.sites.models import ResettlementSite

    site = ResettlementSite(name="超期苑", promised_handover_date=date(2027, 6, 30))
    db.session.add(site)
    db.session.flush()
    project = make_project(site_id=site.id, transition_months=12)
    _rule(project)
    h = make_household(
        project=project,
        stage=Stage.VACATED,
        appraisal_value=D("1"),
        compensation_mode=CompensationMode.SWAP,
        entitled_area=D("85.32"),
        legal_area=D("50.00"),
    )
    h.steps.append(CaseStep(stage=Stage.SIGNED, actual_date=date(2025, 3, 3)))
    h.steps.append(CaseStep(stage=Stage.VACATED, actual_date=date(2025, 4, 1)))
    db.session.flush()
    replan(db.session, plan_for_site(db.session, site), today=date(2025, 4, 2))
    plan = fund_plan(db.session, project, today=date(2025, 4, 2))
    months = {row.month: row for row in plan.months}
    # within the 12-month period: 50 × 12 = 600 a month; from the 13th month (2026-04) ×2
    assert months["2025-04"].planned >= D("600.00") and months["2025-05"].overrun == 0
    assert months["2026-04"].overrun == D("600.00")
    assert months["2026-05"].planned == D("1200.00")


def test_demo_totals_reconcile_and_show_a_future_shortfall(app):
    with acting_as("demo-seed"):
        seed_demo(db.session, households=400, seed=2025)  # what `make run` loads
    for project in db.session.scalars(sa.select(ExpropriationProject)):
        as_of = date(2026, 11, 20)
        lines_total = D("0.00")
        household_total = D("0.00")
        for h in db.session.scalars(sa.select(Household).where(Household.project_id == project.id)):
            money = household_money(db.session, h, as_of=as_of)
            lines_total += sum((line.amount for line in money.lines), D("0.00"))
            household_total += money.total
        assert lines_total == household_total == project_totals(db.session, project, as_of=as_of)
    first = db.session.scalar(
        sa.select(ExpropriationProject).where(ExpropriationProject.code == "ZQ2025-01")
    )
    plan = fund_plan(db.session, first, today=date(2026, 11, 20))
    assert plan.first_shortfall_month is not None and plan.first_shortfall_month > "2026-11"


def test_no_float_on_the_money_path():
    """No float literal, float() call or float annotation anywhere money is computed."""
    root = Path(__file__).resolve().parents[2] / "resettle"
    offenders = []
    for path in [
        *root.glob("funds/*.py"),
        root / "households/services.py",
        root / "db.py",
        root / "months.py",
    ]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, float):
                offenders.append(f"{path.name}:{node.lineno}: float literal {node.value}")
            if isinstance(node, ast.Name) and node.id == "float":
                offenders.append(f"{path.name}:{node.lineno}: float")
    assert offenders == []


def test_cli_prints_household_and_plan_as_json(app, make_project, make_household, monkeypatch):
    from resettle import clock

    monkeypatch.setattr(clock, "today", lambda: date(2025, 7, 6))
    project = make_project(code="CLI1")
    _rule(project)
    h = make_household(
        project=project,
        case_number="CLI1-0001",
        stage=Stage.SIGNED,
        appraisal_value=D("600000"),
        compensation_mode=CompensationMode.MONEY,
    )
    h.steps.append(CaseStep(stage=Stage.SIGNED, actual_date=date(2025, 7, 5)))
    db.session.flush()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["funds", "household", "CLI1-0001", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [line["amount"] for line in data["lines"]] == ["600000.00", "1279.80"]
    assert data["totals"] == {
        "total": "601279.80",
        "due": "601279.80",
        "paid": "0.00",
        "received": "0.00",
        "outstanding": "601279.80",
        "balance": "payable",
    }
    assert data["lines"][1]["formula"] == "85.32 m² × 15.00 元/m² × 1 次 = 1,279.80 元"
    plan = json.loads(runner.invoke(args=["funds", "plan", "--project", "CLI1", "--json"]).output)
    assert plan["first_shortfall_month"] == "2025-07"
    assert plan["months"][0] == {
        "month": "2025-07",
        "planned": "601279.80",
        "overrun": "0.00",
        "paid": "0.00",
        "available": "0.00",
        "balance": "-601279.80",
    }
    missing = runner.invoke(args=["funds", "household", "NOPE", "--json"])
    assert missing.exit_code != 0 and "NOPE" in missing.output


def test_allowance_statement_counts_months_since_vacating_less_what_was_paid(
    make_project, make_household, make_user
):
    project = make_project(transition_months=24)
    _rule(project)
    household = make_household(
        project=project, stage=Stage.VACATED, compensation_mode=CompensationMode.SWAP
    )
    household.steps.append(CaseStep(stage=Stage.SIGNED, actual_date=date(2025, 3, 25)))
    household.steps.append(CaseStep(stage=Stage.VACATED, actual_date=date(2025, 4, 1)))
    db.session.flush()
    as_of = date(2025, 6, 18)  # April, May and the June begun: 3 months
    statement = allowance_statement(db.session, household, as_of=as_of)
    assert (statement.months, statement.accrued, statement.paid) == (3, D("3071.52"), D("0.00"))
    assert statement.running and statement.due == D("3071.52")
    assert [line.key for line in statement.lines] == ["allowance"]  # nothing else on it
    payment = record_payment(
        db.session,
        household,
        kind=PaymentKind.TEMPORARY_ALLOWANCE,
        amount=D("2047.68"),
        paid_on=date(2025, 6, 1),
        voucher_number="G1",
        payee="",
        operator=None,
        today=as_of,
    )
    record_payment(
        db.session,
        household,
        kind=PaymentKind.MOVING_ALLOWANCE,
        amount=D("2559.60"),
        paid_on=date(2025, 6, 1),
        voucher_number="M1",
        payee="",
        operator=None,
        today=as_of,
    )
    statement = allowance_statement(db.session, household, as_of=as_of)
    assert (statement.paid, statement.due) == (D("2047.68"), D("1023.84"))  # moving not counted
    assert statement.months_paid == 2  # 1,023.84 a month
    reverse_payment(db.session, payment, reason="重复发放", user=make_user(Role.SUPERVISOR))
    assert allowance_statement(db.session, household, as_of=as_of).due == D("3071.52")


def test_no_allowance_statement_for_money_households_or_before_vacating(
    make_project, make_household
):
    project = make_project()
    _rule(project)
    money_household = make_household(
        project=project, stage=Stage.VACATED, compensation_mode=CompensationMode.MONEY
    )
    money_household.steps.append(CaseStep(stage=Stage.VACATED, actual_date=date(2025, 4, 1)))
    signed = make_household(
        project=project, stage=Stage.SIGNED, compensation_mode=CompensationMode.SWAP
    )
    db.session.flush()
    assert allowance_statement(db.session, money_household, as_of=date(2025, 6, 18)) is None
    assert allowance_statement(db.session, signed, as_of=date(2025, 6, 18)) is None


@pytest.mark.parametrize("with_estate", [True, False], ids=["with an estate", "without one"])
def test_a_node_tagged_handover_in_the_projects_plan_sets_no_handover(
    make_project, make_household, with_estate
):
    """The estate's plan sets the handover (as on the household page): a node of the
    project's plan tagged 交付 by mistake does not make the fund plan stop the allowance and
    pay the second moving allowance at the project's date; nor for a project that moves into
    no estate (yet)."""
    from resettle.plans.models import Plan, PlanKind, PlanNode
    from resettle.sites.models import ResettlementSite

    site_id = None
    if with_estate:
        site = ResettlementSite(name="只认安置计划苑", promised_handover_date=date(2027, 6, 30))
        db.session.add(site)
        db.session.flush()
        site_id = site.id
    project = make_project(site_id=site_id, transition_months=12)
    _rule(project)
    h = make_household(
        project=project,
        stage=Stage.VACATED,
        appraisal_value=D("1"),
        compensation_mode=CompensationMode.SWAP,
        entitled_area=D("85.32"),
        legal_area=D("50.00"),
    )
    h.steps.append(CaseStep(stage=Stage.SIGNED, actual_date=date(2025, 3, 3)))
    h.steps.append(CaseStep(stage=Stage.VACATED, actual_date=date(2025, 4, 1)))
    db.session.flush()

    def months():
        plan = fund_plan(db.session, project, today=date(2025, 4, 2))
        return {row.month: row.planned for row in plan.months}

    before = months()
    plan = Plan(kind=PlanKind.PROJECT, name="计划", is_template=False, project_id=project.id)
    plan.nodes.append(
        PlanNode(
            key="handover",
            name="交付",
            position=0,
            duration=1,
            stage=Stage.HANDED_OVER,
            planned_start=date(2025, 8, 29),
            planned_finish=date(2025, 8, 29),
        )
    )
    db.session.add(plan)
    db.session.flush()
    assert months() == before


def test_receipts_settle_a_swap_household_that_owes_for_a_larger_flat(
    app, make_project, make_household, client, login_as
):
    """A swap household whose flat costs more than its house is worth owes the difference: the
    balance reads 应收, a receipt for it makes it 已结清, and no receipt may exceed it."""
    from resettle.sites.models import UnitStatus
    from tests.sites import add_site, flat

    project = make_project()
    _rule(project)
    household = make_household(
        project=project,
        stage=Stage.SIGNED,
        appraisal_value=D("100000"),
        entitled_area=D("60.00"),
        compensation_mode=CompensationMode.SWAP,
    )
    household.steps.append(CaseStep(stage=Stage.SIGNED, actual_date=date(2025, 7, 5)))
    _, building = add_site(db.session, areas=("120.00",))
    unit = flat(building, "101")
    unit.household, unit.status = household, UnitStatus.ALLOCATED
    db.session.flush()
    db.session.refresh(household)
    figures = household_money(db.session, household, as_of=date(2025, 8, 1))
    # 60 m² × 3000 + 10 m² × 5000 + 50 m² × 12000 = 830,000 against 100,000 + 1,279.80
    assert figures.total == D("-728720.20")
    assert figures.balance == "receivable" and figures.balance_amount == D("728720.20")

    def receive(amount, voucher):
        return record_payment(
            db.session,
            household,
            kind=PaymentKind.RECEIPT,
            amount=amount,
            paid_on=date(2025, 7, 20),
            voucher_number=voucher,
            payee="",
            operator=None,
            today=date(2025, 8, 1),
        )

    with pytest.raises(RuleViolation, match="728,720.20"):
        receive(D("728720.21"), "SK-0")
    receive(D("700000.00"), "SK-1")
    receive(D("28720.20"), "SK-2")
    settled = household_money(db.session, household, as_of=date(2025, 8, 1))
    assert settled.balance == "settled" and settled.outstanding == 0
    assert settled.received == D("728720.20")
    with pytest.raises(RuleViolation, match="0.00"):
        receive(D("0.01"), "SK-3")

    data = json.loads(
        app.test_cli_runner()
        .invoke(args=["funds", "household", household.case_number, "--json"])
        .output
    )
    receipts = [line for line in data["lines"] if line["key"] == "receipt"]
    assert [r["amount"] for r in receipts] == ["700000.00", "28720.20"]
    assert data["totals"]["outstanding"] == "0.00" and data["totals"]["balance"] == "settled"

    login_as(Role.CASEWORKER)
    page = client.get(f"/households/{household.id}").get_data(as_text=True)
    assert "已结清" in page and "−700,000.00" in page


def test_entitlements_are_fixed_at_signing_and_only_an_admin_changes_the_window(
    make_project, make_household, make_user
):
    """Widening the signing window afterwards gives a household that signed outside it no
    bonus, a longer transition period does not change its terms, and a caseworker cannot make
    either change."""
    from dataclasses import replace

    from resettle.projects.services import project_data, update_project

    project = make_project(
        signing_start=date(2025, 3, 20), signing_end=date(2025, 6, 30), transition_months=24
    )
    _rule(project, signing_bonus=D("20000"))

    def signed(on):
        household = make_household(
            project=project,
            stage=Stage.APPRAISED,
            appraisal_value=D("600000"),
            compensation_mode=CompensationMode.MONEY,
        )
        household.steps.append(CaseStep(stage=Stage.APPRAISED, actual_date=date(2025, 3, 25)))
        db.session.flush()
        record_step(db.session, household, Stage.SIGNED, on, operator=None, today=date(2025, 12, 1))
        return household

    late = signed(date(2025, 7, 10))  # after the window: no bonus
    before = household_money(db.session, late, as_of=date(2025, 12, 1))
    assert "bonus" not in {line.key for line in before.lines}

    wider = replace(project_data(project), signing_end=date(2025, 7, 31), transition_months=36)
    with pytest.raises(RuleViolation, match="管理员"):
        update_project(db.session, project, wider, user=make_user(Role.CASEWORKER))
    db.session.refresh(project)
    assert project.signing_end == date(2025, 6, 30)

    update_project(db.session, project, wider, user=make_user(Role.ADMIN), today=date(2025, 7, 15))
    after = household_money(db.session, late, as_of=date(2025, 12, 1))
    assert after.total == before.total and after.rule.version == 1
    assert "bonus" not in {line.key for line in after.lines}
    # a household signing from then on has the new terms
    newcomer = signed(date(2025, 7, 20))
    figures = household_money(db.session, newcomer, as_of=date(2025, 12, 1))
    assert figures.rule.version == 2 and figures.rule.transition_months == 36
    assert next(line for line in figures.lines if line.key == "bonus").amount == D("20000.00")
