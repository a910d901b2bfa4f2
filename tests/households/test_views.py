"""Household screens through the test client: what a caseworker sees and can do."""

import re
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from resettle import clock
from resettle.auth.models import Role
from resettle.extensions import db
from resettle.households.models import CaseStep, Household, Stage
from tests.conftest import VALID_IDS


def _form(project_id, **overrides):
    data = {
        "project_id": project_id,
        "survey_date": "2026-03-02",
        "head_name": "赵六",
        "head_id_number": VALID_IDS[3],
        "phone": "13800000001",
        "house_address": "东城区解放路8号",
        "legal_area": "85.32",
        "unregistered_area": "0",
        "house_use": "住宅",
        "compensation_mode": "",
        "members-0-name": "钱七",
        "members-0-relation": "配偶",
        "members-0-id_number": VALID_IDS[4].lower(),
    }
    data.update(overrides)
    return data


def test_register_household_through_the_form(client, login_as, make_project):
    project = make_project()
    login_as(Role.CASEWORKER)
    response = client.post("/households/new", data=_form(project.id))
    assert response.status_code == 302
    household = db.session.scalar(sa.select(Household).where(Household.head_name == "赵六"))
    assert household.case_number == f"{project.code}-0001"
    assert household.legal_area == Decimal("85.32")
    assert [(m.name, m.relation) for m in household.members] == [("钱七", "配偶")]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "赵六" in page and "调查登记" in page and "2026-03-02" in page


def test_bad_id_number_is_explained_and_nothing_saved(client, login_as, make_project):
    project = make_project()
    login_as(Role.CASEWORKER)
    response = client.post(
        "/households/new", data=_form(project.id, head_id_number="110105194912310021")
    )
    assert response.status_code == 200
    assert "身份证号校验位不符" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Household)) == 0


def test_non_numeric_area_gets_a_message(client, login_as, make_project):
    project = make_project()
    login_as(Role.CASEWORKER)
    response = client.post("/households/new", data=_form(project.id, legal_area="八十五"))
    assert response.status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Household)) == 0


def test_list_filters_and_search(client, login_as, make_project, make_household):
    project = make_project()
    make_household(project=project, head_name="孙悟空", stage=Stage.SIGNED)
    make_household(project=project, head_name="猪八戒", stage=Stage.SURVEYED)
    login_as(Role.LEADER)
    page = client.get(f"/households/?project={project.id}&stage=signed").get_data(as_text=True)
    assert "孙悟空" in page and "猪八戒" not in page
    page = client.get("/households/?q=八戒").get_data(as_text=True)
    assert "猪八戒" in page and "孙悟空" not in page
    # a leader sees ID numbers masked
    assert re.search(r"\d{6}\*{8}\d{3}[\dX]", page)


def test_overdue_filter(client, login_as, make_household):
    late = make_household(head_name="迟到户")
    late.steps.append(CaseStep(stage=Stage.APPRAISED, deadline=date(2025, 1, 6)))
    make_household(head_name="准时户")
    db.session.flush()
    login_as(Role.SUPERVISOR)
    page = client.get("/households/?overdue=1").get_data(as_text=True)
    assert "迟到户" in page and "准时户" not in page


def test_guard_message_on_the_household_page(client, login_as, make_household):
    household = make_household()
    household.steps.append(CaseStep(stage=Stage.SURVEYED, actual_date=date(2026, 3, 2)))
    db.session.flush()
    login_as(Role.CASEWORKER)
    response = client.post(
        f"/households/{household.id}/steps",
        data={"stage": "vacated", "actual_date": "2026-03-05"},
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "还不能登记“腾空交房”：须先完成“评估”" in page
    db.session.refresh(household)
    assert household.stage == Stage.SURVEYED


def test_future_date_typed_by_hand_is_refused(client, login_as, make_household):
    household = make_household(appraisal_unit_price=Decimal("1"), appraisal_value=Decimal("1"))
    household.steps.append(CaseStep(stage=Stage.SURVEYED, actual_date=date(2026, 3, 2)))
    db.session.flush()
    login_as(Role.CASEWORKER)
    response = client.post(
        f"/households/{household.id}/steps",
        data={"stage": "appraised", "actual_date": "2099-01-01"},
    )
    assert "日期不能晚于今天" in response.get_data(as_text=True)


def test_garbage_stage_is_a_400_not_a_500(client, login_as, make_household):
    household = make_household()
    login_as(Role.CASEWORKER)
    response = client.post(
        f"/households/{household.id}/steps", data={"stage": "nonsense", "actual_date": "2026-03-05"}
    )
    assert response.status_code == 400


def test_second_concurrent_edit_is_refused_naming_who_changed_what(
    client, app, login_as, make_household, make_user
):
    household = make_household(head_name="周八", phone="13800000000")
    first = login_as(Role.CASEWORKER, full_name="王经办")
    edit_page = client.get(f"/households/{household.id}/edit").get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', edit_page).group(1)
    loaded_at = re.search(r'name="loaded_at" type="hidden" value="([^"]+)"', edit_page).group(1)
    # someone else saves first
    other = app.test_client()
    other_user = make_user(Role.CASEWORKER, username="li.jingban", all_projects=True)
    from tests.conftest import TEST_PASSWORD

    other.post("/login", data={"username": other_user.username, "password": TEST_PASSWORD})
    base = {
        "head_name": "周八",
        "head_id_number": household.head_id_number,
        "house_address": household.house_address,
        "legal_area": "85.32",
        "unregistered_area": "0",
        "house_use": "住宅",
        "compensation_mode": "",
    }
    ok = other.post(
        f"/households/{household.id}/edit",
        data={**base, "phone": "13911111111", "version": version, "loaded_at": loaded_at},
    )
    assert ok.status_code == 302
    # the first caseworker's save, based on the old version, is refused
    response = client.post(
        f"/households/{household.id}/edit",
        data={**base, "phone": "13722222222", "version": version, "loaded_at": loaded_at},
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "li.jingban" in page and "修改了该户信息" in page
    assert "13911111111" in page and "13722222222" in page
    db.session.expire_all()
    assert db.session.get(Household, household.id).phone == "13911111111"
    assert first.id != other_user.id


def test_supervisor_undoes_a_step(client, login_as, make_household):
    household = make_household(
        appraisal_unit_price=Decimal("1"), appraisal_value=Decimal("1"), stage=Stage.APPRAISED
    )
    household.steps.append(CaseStep(stage=Stage.SURVEYED, actual_date=date(2026, 3, 2)))
    household.steps.append(CaseStep(stage=Stage.APPRAISED, actual_date=date(2026, 3, 9)))
    db.session.flush()
    login_as(Role.SUPERVISOR)
    response = client.post(f"/households/{household.id}/undo", data={"reason": "日期录错"})
    assert response.status_code == 302
    db.session.refresh(household)
    assert household.stage == Stage.SURVEYED


def test_caseworker_cannot_undo_and_leader_cannot_record(client, login_as, make_household):
    household = make_household()
    login_as(Role.CASEWORKER)
    assert client.post(f"/households/{household.id}/undo", data={"reason": "x"}).status_code == 403
    client.post("/logout")
    login_as(Role.LEADER)
    response = client.post(
        f"/households/{household.id}/steps",
        data={"stage": "appraised", "actual_date": "2026-03-05"},
    )
    assert response.status_code == 403


def test_record_payment_then_vacate(client, login_as, make_household):
    household = make_household(
        stage=Stage.SIGNED,
        compensation_mode="swap",
        appraisal_unit_price=Decimal("1"),
        appraisal_value=Decimal("1"),
    )
    household.steps.append(CaseStep(stage=Stage.SIGNED, actual_date=date(2026, 3, 2)))
    db.session.flush()
    login_as(Role.CASEWORKER)
    today = clock.today().isoformat()
    refused = client.post(
        f"/households/{household.id}/steps", data={"stage": "vacated", "actual_date": today}
    )
    assert "先补偿、后搬迁" in refused.get_data(as_text=True)
    response = client.post(
        f"/households/{household.id}/payments",
        data={
            "kind": "compensation",
            "amount": "853200.00",
            "paid_on": today,
            "voucher_number": "PZ-2026-001",
            "payee": "",
        },
    )
    assert response.status_code == 302
    ok = client.post(
        f"/households/{household.id}/steps", data={"stage": "vacated", "actual_date": today}
    )
    assert ok.status_code == 302
    page = client.get(f"/households/{household.id}").get_data(as_text=True)
    assert "853,200.00" in page and "PZ-2026-001" in page and "过渡" in page


def test_unknown_region_code_is_confirmed_before_saving(client, login_as, make_project):
    from resettle.audit.models import AuditEvent
    from tests.core.test_idnumbers import with_check_digit

    project = make_project()
    login_as(Role.CASEWORKER)
    number = with_check_digit("99010119520101001")  # a code the national table never had
    response = client.post("/households/new", data=_form(project.id, head_id_number=number))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "990101" in page and "不在全国行政区划代码表中" in page
    assert "我已对照身份证核对身份证号" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Household)) == 0

    response = client.post(
        "/households/new",
        data=_form(project.id, head_id_number=number, warnings_confirmed="y"),
    )
    assert response.status_code == 302
    household = db.session.scalar(sa.select(Household).where(Household.head_id_number == number))
    confirmed = db.session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.action == "confirm_warning", AuditEvent.entity_id == household.id
        )
    )
    assert "990101" in confirmed.changes["warnings"][1][0]
    assert number not in str(confirmed.changes)  # the trail names the code, not the number


def test_older_resident_registers_without_any_warning(client, login_as, make_project):
    project = make_project()
    login_as(Role.CASEWORKER)
    response = client.post(
        "/households/new", data=_form(project.id, head_id_number="330106194801010013")
    )
    assert response.status_code == 302
