"""The catalogue on the screens: free lines added and removed from the household page by a
caseworker of the project, the rule form's new terms and price list, the household form's
fixture counts, and the CLI's JSON."""

import json
import re
from datetime import date
from decimal import Decimal as D

import sqlalchemy as sa

from resettle.auth.models import Role
from resettle.extensions import db
from resettle.funds.models import CompensationRule
from resettle.funds.services import RuleData, add_adjustment, create_rule_version
from resettle.households.models import Household, HouseholdAdjustment
from tests.funds.test_funds import RULE

PRICE_LIST = "空调移装,台,300\n电表移装,块,200"


def _project(make_project, **rule):
    project = make_project()
    create_rule_version(
        db.session, project, RuleData(effective_from=date(2025, 3, 1), **{**RULE, **rule})
    )
    return project


def test_a_caseworker_of_the_project_adds_and_removes_a_free_line(
    client, login_as, make_project, make_household
):
    project = _project(make_project)
    household = make_household(project=project, appraisal_value=D("600000"))
    login_as(Role.CASEWORKER, projects=[project])
    url = f"/households/{household.id}/adjustments"
    missing = client.post(url, data={"label": "院内果树", "amount": "2400", "reason": "   "})
    assert missing.status_code == 200
    assert 'data-testid="adjustment-form"' in missing.get_data(as_text=True)
    assert household.adjustments == []
    zero = client.post(url, data={"label": "院内果树", "amount": "0", "reason": "会议决定"})
    assert "扣减填负数" in zero.get_data(as_text=True)
    ok = client.post(
        url, data={"label": "院内果树补偿", "amount": "2400", "reason": "经征收办会议研究决定"}
    )
    assert ok.status_code == 302 and ok.location.endswith("#compensation")
    page = client.get(f"/households/{household.id}").get_data(as_text=True)
    assert "院内果树补偿" in page and "经征收办会议研究决定 = 2,400.00 元" in page
    assert 'data-testid="money-total">603,679.80<' in page  # 600,000 + 1,279.80 + 2,400
    line = db.session.scalar(sa.select(HouseholdAdjustment))
    removed = client.post(f"/households/{household.id}/adjustments/{line.id}/remove")
    assert removed.status_code == 302
    history = client.get(f"/households/{household.id}").get_data(as_text=True)
    assert "已添加其他补偿或扣减" in history and "已删除其他补偿或扣减" in history
    assert db.session.scalar(sa.select(sa.func.count()).select_from(HouseholdAdjustment)) == 0


def test_another_projects_household_and_its_lines_answer_404(
    client, login_as, make_project, make_household
):
    mine, theirs = _project(make_project), _project(make_project)
    other = make_household(project=theirs, appraisal_value=D("500000"))
    line = add_adjustment(
        db.session, other, label="其他补偿", amount=D("100"), reason="会议决定", user=None
    )
    own = make_household(project=mine)
    login_as(Role.CASEWORKER, projects=[mine])
    data = {"label": "x", "amount": "100", "reason": "y"}
    assert client.post(f"/households/{other.id}/adjustments", data=data).status_code == 404
    assert client.post(f"/households/{other.id}/adjustments/{line.id}/remove").status_code == 404
    # nor through a household of one's own
    assert client.post(f"/households/{own.id}/adjustments/{line.id}/remove").status_code == 404
    db.session.expire_all()
    assert [a.id for a in db.session.get(Household, other.id).adjustments] == [line.id]


def test_a_leader_reads_free_lines_but_adds_none(client, login_as, make_project, make_household):
    household = make_household(project=_project(make_project))
    login_as(Role.LEADER)
    page = client.get(f"/households/{household.id}").get_data(as_text=True)
    assert "其他补偿及扣减" in page and 'data-testid="adjustment-form"' not in page
    response = client.post(
        f"/households/{household.id}/adjustments",
        data={"label": "x", "amount": "1", "reason": "y"},
    )
    assert response.status_code == 403


def test_the_rule_form_takes_the_new_terms_and_the_price_list(client, login_as, make_project):
    project = _project(make_project, price_list=PRICE_LIST)
    login_as(Role.ADMIN)
    form = client.get(f"/funds/projects/{project.id}/rules/new").get_data(as_text=True)
    assert "空调移装,台,300.00" in form  # the previous list to start from
    data = {k: str(v) for k, v in RULE.items()}
    data.update(
        effective_from="2025-09-01",
        month_counting="started",
        overrun_tiers="1:2",
        compensation_due_days="15",
        signing_reward_tiers="2025-09-30:30000,2025-10-31:20000",
        moving_bonus_tiers="2025-11-30:10000",
        business_loss_method="monthly",
        business_loss_months="6",
        business_loss_per_m2_month="20",
        lawful_unregistered_per_m2="1500",
        hardship_subsidy="5000",
        price_list="空调移装,台,350\n燃气移装,户,800\n电表移装,块,200,多余",
    )
    bad = client.post(f"/funds/projects/{project.id}/rules/new", data=data)
    assert bad.status_code == 200 and "价格表第 3 行" in bad.get_data(as_text=True)
    tiers = client.post(
        f"/funds/projects/{project.id}/rules/new",
        data={**data, "price_list": "空调移装,台,350", "signing_reward_tiers": "九月底:30000"},
    )
    assert "2025-03-31:30000,2025-04-30:20000" in tiers.get_data(as_text=True)
    data["price_list"] = "空调移装,台,350\n燃气移装,户,800"
    assert client.post(f"/funds/projects/{project.id}/rules/new", data=data).status_code == 302
    rule = db.session.scalar(
        sa.select(CompensationRule).where(
            CompensationRule.project_id == project.id, CompensationRule.version == 2
        )
    )
    assert [(i.name, i.price) for i in rule.price_items] == [
        ("空调移装", D("350.00")),
        ("燃气移装", D("800.00")),
    ]
    assert rule.signing_reward_tiers == "2025-09-30:30000.00,2025-10-31:20000.00"
    assert (rule.business_loss_months, rule.hardship_subsidy) == (6, D("5000.00"))
    page = client.get(f"/funds/projects/{project.id}").get_data(as_text=True)
    assert "月数 × 每月每平方米标准：" in page and "6 个月 × 20.00 元/m²/月" in page
    assert "燃气移装 800.00 元/户" in page


def test_the_household_form_counts_fixtures_and_takes_the_new_inputs(
    client, login_as, make_project, make_household
):
    project = _project(make_project, price_list=PRICE_LIST, hardship_subsidy=D("5000"))
    household = make_household(project=project, unregistered_area=D("10"))
    login_as(Role.CASEWORKER, projects=[project])
    page = client.get(f"/households/{household.id}/edit").get_data(as_text=True)
    assert "空调移装 (台, 300.00 元)" in page
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    loaded_at = re.search(r'name="loaded_at" type="hidden" value="([^"]+)"', page).group(1)
    data = {
        "head_name": household.head_name,
        "head_id_number": household.head_id_number,
        "house_address": household.house_address,
        "legal_area": "85.32",
        "unregistered_area": "10",
        "lawful_unregistered_area": "12",
        "house_use": "住宅",
        "decoration_value": "35678.50",
        "hardship": "低保",
        "compensation_mode": "",
        "version": version,
        "loaded_at": loaded_at,
        "fixture_counts-0-name": "空调移装",
        "fixture_counts-0-quantity": "3",
        "fixture_counts-1-name": "电表移装",
        "fixture_counts-1-quantity": "",
    }
    refused = client.post(f"/households/{household.id}/edit", data=data)
    assert refused.status_code == 200
    assert "认定合法的面积不能大于未登记建筑面积" in refused.get_data(as_text=True)
    data["lawful_unregistered_area"] = "8"
    assert client.post(f"/households/{household.id}/edit", data=data).status_code == 302
    db.session.expire_all()
    household = db.session.get(Household, household.id)
    assert [(f.name, f.quantity) for f in household.fixtures] == [("空调移装", D("3.00"))]
    assert (household.decoration_value, household.hardship) == (D("35678.50"), "低保")
    page = client.get(f"/households/{household.id}").get_data(as_text=True)
    assert "3 台 × 300.00 元 = 900.00 元" in page
    assert "评估金额 = 35,678.50 元" in page and "低保，按户定额 = 5,000.00 元" in page


def test_cli_json_lists_the_new_lines_and_keeps_its_keys(app, make_project, make_household):
    project = _project(make_project, price_list=PRICE_LIST)
    household = make_household(project=project, case_number="CAT-0001", appraisal_value=D("600000"))
    household.decoration_value = D("30000")
    add_adjustment(db.session, household, label="", amount=D("-500"), reason="多领", user=None)
    db.session.flush()
    result = app.test_cli_runner().invoke(args=["funds", "household", "CAT-0001", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    lines = {line["key"]: line for line in data["lines"]}
    assert lines["decoration"]["amount"] == "30000.00"
    adjustment = next(v for k, v in lines.items() if k.startswith("adjustment:"))
    assert adjustment["label"] == "其他扣减" and adjustment["formula"] == "多领 = -500.00 元"
    assert set(data["totals"]) >= {"total", "due", "paid", "outstanding"}
    assert data["totals"]["total"] == "630779.80"  # 600,000 + 30,000 + 1,279.80 − 500


def test_the_first_version_starts_from_an_empty_list(client, login_as, make_project):
    project = make_project()
    login_as(Role.ADMIN)
    page = client.get(f"/funds/projects/{project.id}/rules/new")
    assert page.status_code == 200 and "附属物及设施移装价格表" in page.get_data(as_text=True)
