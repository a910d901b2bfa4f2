"""Fund screens: the plan with its gap, sources, rule versions, reversals, the household's money."""

import io
from datetime import date
from decimal import Decimal as D

import openpyxl
import sqlalchemy as sa

from resettle.auth.models import Role
from resettle.extensions import db
from resettle.funds.models import CompensationRule, FundSource, Payment, PaymentKind
from resettle.funds.services import RuleData, create_rule_version
from resettle.households.models import CaseStep, CompensationMode, Stage
from tests.funds.test_funds import RULE
from tests.jobs import job_file


def _project_with_rule(make_project, **kw):
    project = make_project(**kw)
    create_rule_version(db.session, project, RuleData(effective_from=date(2025, 3, 1), **RULE))
    return project


def test_fund_plan_page_shows_months_and_the_gap(
    client, login_as, make_project, make_household, monkeypatch
):
    from resettle import clock

    monkeypatch.setattr(clock, "today", lambda: date(2025, 3, 15))
    project = _project_with_rule(make_project)
    h = make_household(
        project=project,
        stage=Stage.SIGNED,
        appraisal_value=D("500000"),
        compensation_mode=CompensationMode.MONEY,
    )
    h.steps.append(CaseStep(stage=Stage.SIGNED, actual_date=date(2025, 4, 1)))
    db.session.flush()
    login_as(Role.LEADER)
    page = client.get(f"/funds/projects/{project.id}").get_data(as_text=True)
    assert "资金缺口" in page and "2025-04" in page and "506,279.80" in page
    assert "添加资金来源" not in page  # a leader reads only
    xlsx = job_file(client, client.get(f"/funds/projects/{project.id}/plan.xlsx"))
    assert xlsx.data[:2] == b"PK"
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data)).active
    rows = {row[0]: row for row in sheet.iter_rows(values_only=True) if row and row[0]}
    assert rows["2025-04"][1] == 506279.8  # the month's planned outflow, as on the page
    # … and the month the money runs short, in its own line below the months
    assert [row[1] for label, row in rows.items() if label == "首个资金缺口月份"] == ["2025-04"]


def test_caseworker_adds_a_source_and_bad_amount_is_explained(client, login_as, make_project):
    project = _project_with_rule(make_project)
    login_as(Role.CASEWORKER)
    bad = client.post(
        f"/funds/projects/{project.id}/sources",
        data={"kind": "fiscal", "name": "财政", "amount": "-5", "available_on": "2025-03-01"},
    )
    assert bad.status_code == 200 and "金额必须大于零" in bad.get_data(as_text=True)
    ok = client.post(
        f"/funds/projects/{project.id}/sources",
        data={
            "kind": "special_bond",
            "name": "专项债",
            "amount": "1000000",
            "available_on": "2025-03-01",
        },
    )
    assert ok.status_code == 302
    assert db.session.scalar(sa.select(FundSource.amount)) == D("1000000.00")


def test_only_admins_make_rule_versions(client, login_as, make_project):
    project = _project_with_rule(make_project)
    login_as(Role.CASEWORKER)
    assert client.get(f"/funds/projects/{project.id}/rules/new").status_code == 403
    client.post("/logout")
    login_as(Role.ADMIN)
    data = {k: str(v) for k, v in RULE.items()}
    data.update(
        effective_from="2025-09-01",
        month_counting="whole",
        overrun_tiers="1:1.5,7:2",
        compensation_due_days="20",
        moving_allowance_per_m2="18",
    )
    response = client.post(f"/funds/projects/{project.id}/rules/new", data=data)
    assert response.status_code == 302
    versions = db.session.scalars(
        sa.select(CompensationRule.version).where(CompensationRule.project_id == project.id)
    ).all()
    assert sorted(versions) == [1, 2]


def test_household_page_shows_lines_with_formulas_and_a_supervisor_reverses(
    client, login_as, make_project, make_household
):
    project = _project_with_rule(make_project)
    h = make_household(
        project=project,
        stage=Stage.SIGNED,
        appraisal_value=D("600000"),
        compensation_mode=CompensationMode.MONEY,
    )
    h.steps.append(CaseStep(stage=Stage.SIGNED, actual_date=date(2025, 7, 5)))
    payment = Payment(
        household=h,
        kind=PaymentKind.COMPENSATION,
        amount=D("600000"),
        paid_on=date(2025, 7, 10),
        voucher_number="PZ-9",
        payee="张三",
    )
    db.session.add(payment)
    db.session.flush()
    login_as(Role.SUPERVISOR)
    page = client.get(f"/households/{h.id}").get_data(as_text=True)
    assert "85.32 m² × 15.00 元/m² × 1 次 = 1,279.80 元" in page
    assert 'data-testid="money-outstanding">1,279.80<' in page
    response = client.post(f"/funds/payments/{payment.id}/reverse", data={"reason": "重复登记"})
    assert response.status_code == 302
    page = client.get(f"/households/{h.id}").get_data(as_text=True)
    assert 'data-testid="money-outstanding">601,279.80<' in page and "重复登记" in page


def test_caseworker_cannot_reverse(client, login_as, make_household):
    h = make_household()
    payment = Payment(
        household=h,
        kind=PaymentKind.COMPENSATION,
        amount=D("1"),
        paid_on=date(2025, 7, 10),
        voucher_number="PZ-10",
        payee="张三",
    )
    db.session.add(payment)
    db.session.flush()
    login_as(Role.CASEWORKER)
    assert (
        client.post(f"/funds/payments/{payment.id}/reverse", data={"reason": "x"}).status_code
        == 403
    )


def _handover_hint(page: str) -> str:
    start = page.index('data-testid="handover-assumed"')
    return page[start : page.index("</p>", start)]


def test_fund_plan_says_which_handover_it_plans_with_and_marks_a_provisional_one(
    client, login_as, make_project, make_household, monkeypatch
):
    from resettle import clock
    from resettle.plans.services import plan_for_site, replan
    from resettle.sites.models import ResettlementSite

    today = date(2025, 4, 2)
    monkeypatch.setattr(clock, "today", lambda: today)
    site = ResettlementSite(name="超期苑", promised_handover_date=date(2026, 12, 31))
    db.session.add(site)
    db.session.flush()
    project = _project_with_rule(make_project, site_id=site.id, transition_months=12)
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
    plan = plan_for_site(db.session, site)
    replan(db.session, plan, today=today)  # about 580 working days: forecast in 2027
    handover = next(n for n in plan.nodes if n.key == "handover")
    assert handover.forecast_finish.year == 2027
    login_as(Role.LEADER)
    hint = _handover_hint(client.get(f"/funds/projects/{project.id}").get_data(as_text=True))
    assert handover.forecast_finish.isoformat() in hint and "暂定" in hint

    for node in plan.nodes:  # a quicker build: forecast inside 2026
        node.duration = {"topping": 60, "acceptance": 20}.get(node.key, node.duration)
    replan(db.session, plan, today=today)
    assert handover.forecast_finish.year == 2026
    hint = _handover_hint(client.get(f"/funds/projects/{project.id}").get_data(as_text=True))
    assert handover.forecast_finish.isoformat() in hint and "暂定" not in hint
