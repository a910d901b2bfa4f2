"""Input a person can type (or a tampered form can send) gets a message in Chinese and changes
nothing; no page answers 500 for it (found by a garbage-input pass over every form and route)."""

from __future__ import annotations

import sqlalchemy as sa

from resettle.auth.models import Role
from resettle.extensions import db
from resettle.funds.models import Payment
from resettle.households.models import Household
from resettle.plans.services import plan_for_project
from tests.households.test_views import _form

HUGE = "99999999999999999999"


def _households() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Household))


def test_a_huge_or_not_a_number_amount_is_refused_on_the_field(client, login_as, make_project):
    project = make_project()
    login_as(Role.CASEWORKER)
    for field, value, message in (
        ("legal_area", HUGE, "数值过大"),
        ("legal_area", "100000000", "数值过大"),  # an area column holds below 10^8 m²
        ("appraisal_unit_price", HUGE, "数值过大"),
        ("appraisal_value", "NaN", "不是有效的数字"),
        ("entitled_area", "Infinity", "不是有效的数字"),
        ("selection_order", HUGE, "数值过大"),
    ):
        response = client.post("/households/new", data=_form(project.id, **{field: value}))
        assert response.status_code == 200, (field, value)
        assert message in response.get_data(as_text=True), (field, value)
    assert _households() == 0
    # the largest the columns hold is still taken
    response = client.post(
        "/households/new",
        data=_form(project.id, legal_area="99999999.99", appraisal_unit_price="999999999999.99"),
    )
    assert response.status_code == 302 and _households() == 1


def test_a_payment_of_nan_or_1e20_yuan_is_refused(client, login_as, make_household):
    household = make_household()
    login_as(Role.CASEWORKER)
    for amount in ("NaN", HUGE, "1e20"):
        response = client.post(
            f"/households/{household.id}/payments",
            data={
                "kind": "compensation",
                "amount": amount,
                "paid_on": "2026-03-02",
                "voucher_number": "PZ-1",
                "payee": "",
            },
        )
        assert response.status_code in (200, 302), amount
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 0, amount


def test_ids_and_page_numbers_beyond_the_database_are_no_record(client, login_as, make_project):
    project = make_project()
    # public, no login
    for path in (f"/public/disclosures/{HUGE}", "/public/disclosures/9223372036854775808.pdf"):
        assert client.get(path).status_code == 404, path
    login_as(Role.SUPERVISOR)
    for path in (f"/households/{HUGE}", "/households/2147483648", f"/plans/{HUGE}"):
        assert client.get(path).status_code == 404, path
    for path in (
        f"/households/?page={HUGE}",
        f"/households/?project={HUGE}",
        f"/audit/?page={HUGE}",
        f"/notices/?year={HUGE}&document={HUGE}",
        f"/supervision/overdue?page={HUGE}",
        f"/households/?project={project.id}&page=-1",
    ):
        assert client.get(path).status_code == 200, path


def test_whitespace_for_an_optional_choice_is_no_choice(client, login_as, make_project):
    project = make_project()
    login_as(Role.CASEWORKER)
    response = client.post(
        "/households/new", data=_form(project.id, compensation_mode="   ", caseworker_id="   ")
    )
    assert response.status_code == 302
    household = db.session.scalar(sa.select(Household))
    assert household.compensation_mode is None and household.caseworker_id is None


def test_a_predecessor_not_in_the_plan_is_explained_in_chinese(client, login_as, make_project):
    plan = plan_for_project(db.session, make_project())
    db.session.flush()
    login_as(Role.CASEWORKER)
    for value in ("-1", HUGE):
        response = client.post(
            f"/plans/{plan.id}/nodes/new",
            data={"name": "新节点", "duration": "3", "predecessors": value, "lag": "0"},
        )
        page = response.get_data(as_text=True)
        assert response.status_code == 200 and "请从列表中选择" in page, value
        assert "not a valid choice" not in page
    assert all(n.name != "新节点" for n in plan.nodes)


def test_a_nul_character_is_a_bad_request_and_saves_nothing(client, login_as, make_project):
    project = make_project()
    assert client.get("/public/projects/a%00b").status_code == 400
    assert (
        client.post(
            "/public/status", data={"case_number": "a\x00b", "id_suffix": "123456"}
        ).status_code
        == 400
    )
    login_as(Role.CASEWORKER)
    response = client.post("/households/new", data=_form(project.id, head_name="张\x00三"))
    assert response.status_code == 400 and "无法识别该请求" in response.get_data(as_text=True)
    assert _households() == 0


def test_overrun_tiers_that_would_not_fit_are_explained(client, login_as, make_project):
    from resettle.funds.models import CompensationRule

    project = make_project()
    login_as(Role.ADMIN)
    response = client.post(
        f"/funds/projects/{project.id}/rules/new",
        data={
            "effective_from": "2025-03-20",
            "moving_allowance_per_m2": "20",
            "temporary_allowance_per_m2_month": "15",
            "month_counting": "whole",
            "signing_bonus": "0",
            "price_within_entitled": "1000",
            "band_m2": "10",
            "price_first_band": "3000",
            "price_beyond_band": "6000",
            "overrun_tiers": "1:1e400",
            "compensation_due_days": "15",
        },
    )
    assert response.status_code == 200 and "起始月:倍数" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CompensationRule)) == 0


def test_item_keys_and_households_beyond_the_database_are_no_items(client, login_as):
    login_as(Role.ADMIN)
    for path in (
        f"/supervision/orders/new?item=n{HUGE}",
        "/supervision/orders/new?item=h2147483648-demolished",
        "/notices/batch?project=2147483648",
    ):
        assert client.get(path).status_code == 200, path
    for household in ("2147483648", "²"):
        response = client.post(
            "/notices/batch", data={"project": "1", "type": "signing", "household": household}
        )
        assert response.status_code == 200, household


def test_an_unreadable_or_out_of_calendar_date_is_named_so(client, login_as, make_household):
    household = make_household()
    login_as(Role.CASEWORKER)
    for paid_on, message in (
        ("2026-13-45", "不是有效的日期"),
        ("0001-01-01", "超出工作日历范围"),
        ("9999-12-31", "超出工作日历范围"),
    ):
        response = client.post(
            f"/households/{household.id}/payments",
            data={
                "kind": "compensation",
                "amount": "100",
                "paid_on": paid_on,
                "voucher_number": "PZ-1",
            },
        )
        page = response.get_data(as_text=True)
        assert message in page and "必填" not in page, paid_on
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 0


def test_an_amount_in_tenths_of_a_fen_is_refused(client, login_as, make_project):
    project = make_project()
    login_as(Role.CASEWORKER)
    response = client.post("/households/new", data=_form(project.id, legal_area="0.001"))
    assert "最多两位小数" in response.get_data(as_text=True) and _households() == 0
