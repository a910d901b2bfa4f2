"""Supervision orders (督办单): issued for late items, followed, answered, closed, escalated;
the leader dashboard counts them per responsible unit."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
import sqlalchemy as sa

from resettle import clock
from resettle.calendar import china_calendar
from resettle.errors import RuleViolation
from resettle.extensions import db
from resettle.households.models import CaseStep, Stage
from resettle.notices.models import Notice, NoticeType
from resettle.supervision.dashboard import dashboard
from resettle.supervision.models import OrderStatus, SupervisionOrder
from resettle.supervision.orders import (
    OrderData,
    close_order,
    escalation_workdays,
    issue_order,
    items_done,
    record_response,
)
from resettle.supervision.overdue import OverdueFilter, overdue_items
from tests.pdf import pdf_fonts, pdf_text
from tests.supervision import STANDARD_NODES, TODAY, add_household, add_plan, add_project, msg

CAL = china_calendar()


@pytest.fixture
def project():
    project = add_project(db.session)
    add_plan(db.session, project=project, nodes=STANDARD_NODES)
    return project


@pytest.fixture
def household(project):
    return add_household(db.session, project, stage=Stage.APPRAISED, head_name="欧阳娜娜")


def _keys(project, unit):
    items = overdue_items(db.session, OverdueFilter(project_id=project.id, unit=unit), TODAY)[1]
    return [i.key for i in items]


def _issue(keys, unit="区房屋征收事务所", workdays=5, note="请立即组织入户签约", today=TODAY):
    return issue_order(
        db.session,
        OrderData(keys=keys, responsible_unit=unit, rectify_workdays=workdays, note=note),
        user=None,
        today=today,
        calendar=CAL,
    )


def test_an_order_is_numbered_printed_and_covers_its_items(project, household):
    keys = _keys(project, "区房屋征收事务所")
    order = _issue(keys)

    assert order.number == "东督办〔2025〕1号"
    assert order.notice.type == NoticeType.SUPERVISION and order.notice.household_id is None
    # 5 working days after Wednesday 18 June: 19, 20, 23, 24, 25 June
    assert order.rectify_by == date(2025, 6, 25)
    assert order.status == OrderStatus.OPEN
    assert [(i.subject, i.days_late, i.level.value) for i in order.items] == [
        ("签约", 11, "supervise"),
        (f"{household.case_number} 欧阳娜娜", 11, "supervise"),
    ]
    data = order.notice.document.pdf
    assert hashlib.sha256(data).hexdigest() == order.notice.sha256
    fonts = pdf_fonts(data)
    assert any("CJK" in f.name and f.embedded for f in fonts), fonts
    text = pdf_text(data)
    for expected in (
        "督办单",
        "东督办〔2025〕1号",
        "区房屋征收事务所：",
        "于5个工作日内（2025年6月25日前）整改到位",
        "请立即组织入户签约",
        f"{household.case_number}欧阳娜娜",
        "张建国",
        "核验码：" + order.notice.check_code,
    ):
        assert expected in text, expected
    # the items now show their order on the list
    listed = overdue_items(db.session, OverdueFilter(project_id=project.id), TODAY)[1]
    assert {i.key: i.order_number for i in listed if i.order_number} == {
        k: order.number for k in keys
    }


def test_order_numbers_follow_each_other_and_restart_each_year(project, household):
    first = _issue(_keys(project, "区房屋征收事务所"))
    second = _issue(_keys(project, "街道办事处"), unit="街道办事处")
    assert (first.notice.sequence, second.notice.sequence) == (1, 2)
    close_order(db.session, first, closed_on=TODAY, note=None, user=None, today=TODAY)
    next_year = _issue(
        [f"h{household.id}-signed"], today=date(2026, 1, 5), workdays=3
    )  # still late in 2026
    assert next_year.number == "东督办〔2026〕1号"


def test_response_then_closing_with_items_still_open(project, household):
    order = _issue(_keys(project, "区房屋征收事务所"))
    response = record_response(
        db.session,
        order,
        responded_on=date(2025, 6, 20),
        text="已安排专人入户，预计6月24日前完成签约。",
        user=None,
        today=date(2025, 6, 20),
    )
    assert order.status == OrderStatus.RESPONDED and order.responses == [response]
    # the household signs; the plan node is still not finished
    household.stage = Stage.SIGNED
    household.steps.append(CaseStep(stage=Stage.SIGNED, actual_date=date(2025, 6, 23)))
    db.session.flush()
    done = items_done(db.session, order)
    assert sorted(done.values(), key=lambda v: v is None) == [date(2025, 6, 23), None]
    still_open = close_order(
        db.session,
        order,
        closed_on=date(2025, 6, 24),
        note="签约完成",
        user=None,
        today=date(2025, 6, 24),
    )
    assert still_open == 1
    assert (order.status, order.items_open_at_close, order.closed_on_time) == (
        OrderStatus.CLOSED,
        1,
        True,
    )
    with pytest.raises(RuleViolation) as refused:
        close_order(
            db.session, order, closed_on=TODAY, note=None, user=None, today=date(2025, 6, 24)
        )
    assert refused.value.message == msg("This order is closed already.")
    with pytest.raises(RuleViolation):
        record_response(db.session, order, responded_on=TODAY, text="x", user=None, today=TODAY)


def test_an_order_not_closed_by_its_deadline_is_escalated(project, household):
    order = _issue(_keys(project, "区房屋征收事务所"), workdays=2)  # by Friday 20 June
    assert escalation_workdays(order, date(2025, 6, 20), CAL) == 0
    assert not order.escalated(date(2025, 6, 20))
    assert order.escalated(date(2025, 6, 23))
    assert escalation_workdays(order, date(2025, 6, 24), CAL) == 2  # Monday and Tuesday
    late = _issue(_keys(project, "街道办事处"), unit="街道办事处", workdays=1)
    close_order(
        db.session, late, closed_on=date(2025, 6, 23), note=None, user=None, today=date(2025, 6, 24)
    )
    rows = {r.unit: r for r in dashboard(db.session, date(2025, 6, 24), calendar=CAL)}
    office, street = rows["区房屋征收事务所"], rows["街道办事处"]
    assert (office.orders_open, office.orders_escalated, office.orders_closed_on_time) == (1, 1, 0)
    assert (street.orders_open, street.orders_closed_late, street.orders_escalated) == (0, 1, 0)
    assert office.open_items == 2 and office.late_items == 2
    # demolition (25 June) is 提醒 on the 24th: open but not late
    demolition = rows["拆除施工单位"]
    assert (demolition.open_items, demolition.late_items) == (2, 0)


@pytest.mark.parametrize(
    "change, field, message",
    [
        (dict(keys=[]), "items", "Choose at least one late item for the order."),
        (dict(unit="  "), "responsible_unit", "Name the responsible unit the order goes to."),
        (
            dict(workdays=0),
            "rectify_workdays",
            "The rectification period is 1 to %(n)d working days.",
        ),
        (
            dict(workdays=61),
            "rectify_workdays",
            "The rectification period is 1 to %(n)d working days.",
        ),
    ],
)
def test_order_input_is_checked(project, household, change, field, message):
    keys = change.pop("keys", _keys(project, "区房屋征收事务所"))
    with pytest.raises(RuleViolation) as refused:
        _issue(keys, **change)
    assert refused.value.field == field
    assert refused.value.message == msg(message, n=60)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notice)) == 0


def test_items_done_or_already_under_an_open_order_are_refused(project, household):
    # 净地交付 is not due within 5 working days: not an open item
    with pytest.raises(RuleViolation) as refused:
        _issue([f"h{household.id}-signed", "n999999"])
    assert refused.value.message == msg(
        "%(n)d of the chosen items are no longer open (done, or not due soon); "
        "reload the list and choose again.",
        n=1,
    )
    order = _issue([f"h{household.id}-signed"])
    with pytest.raises(RuleViolation) as refused:
        _issue(_keys(project, "区房屋征收事务所"))
    assert order.number in refused.value.message
    # once closed, a new order may cover the item again
    close_order(db.session, order, closed_on=TODAY, note=None, user=None, today=TODAY)
    assert _issue([f"h{household.id}-signed"]).number == "东督办〔2025〕2号"


def test_response_and_closing_dates_are_checked(project, household):
    order = _issue(_keys(project, "区房屋征收事务所"))
    for day in (date(2025, 6, 19), date(2025, 6, 17)):  # the future; before the order
        with pytest.raises(RuleViolation) as refused:
            record_response(db.session, order, responded_on=day, text="x", user=None, today=TODAY)
        assert refused.value.field == "responded_on"
    with pytest.raises(RuleViolation) as refused:
        record_response(db.session, order, responded_on=TODAY, text="  ", user=None, today=TODAY)
    assert refused.value.field == "text"
    with pytest.raises(RuleViolation):
        close_order(
            db.session, order, closed_on=date(2025, 6, 19), note=None, user=None, today=TODAY
        )
    assert order.status == OrderStatus.OPEN


# --- the screens -----------------------------------------------------------------------------


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setattr(clock, "today", lambda: TODAY)
    return TODAY


def test_supervisor_issues_answers_and_closes_an_order_on_screen(
    client, login_as, project, household, today
):
    login_as("supervisor")
    keys = _keys(project, "区房屋征收事务所")
    form = client.post("/supervision/orders/new", data={"item": keys})
    body = form.get_data(as_text=True)
    assert form.status_code == 200 and "欧阳娜娜" in body
    assert 'value="区房屋征收事务所"' in body  # the unit of the items, filled in
    issued = client.post(
        "/supervision/orders/new",
        data={
            "item": keys,
            "responsible_unit": "区房屋征收事务所",
            "rectify_workdays": "5",
            "note": "限期整改",
            "issue": "1",
        },
    )
    assert issued.status_code == 302
    order = db.session.scalar(sa.select(SupervisionOrder))
    assert issued.headers["Location"].endswith(f"/supervision/orders/{order.id}")
    page = client.get(f"/supervision/orders/{order.id}").get_data(as_text=True)
    assert order.number in page and "2025-06-25" in page
    reprint = client.get(f"/supervision/orders/{order.id}/pdf")
    assert reprint.mimetype == "application/pdf" and reprint.data == order.notice.document.pdf
    answered = client.post(
        f"/supervision/orders/{order.id}/responses",
        data={"responded_on": "2025-06-18", "text": "已部署整改"},
    )
    assert answered.status_code == 302
    closed = client.post(
        f"/supervision/orders/{order.id}/close", data={"closed_on": "2025-06-18", "note": ""}
    )
    assert closed.status_code == 302
    page = client.get(f"/supervision/orders/{order.id}").get_data(as_text=True)
    assert msg("The order is closed; %(n)d of its items are still open.", n=2) in page
    db.session.refresh(order)
    assert order.status == OrderStatus.CLOSED
    # a second closing (another tab, a double click) says why nothing happened
    again = client.post(
        f"/supervision/orders/{order.id}/close", data={"closed_on": "2025-06-18", "note": ""}
    )
    assert msg("This order is closed already.") in again.get_data(as_text=True)


def test_refused_order_input_is_shown_on_the_form(client, login_as, project, household, today):
    login_as("admin")
    response = client.post(
        "/supervision/orders/new",
        data={
            "item": [f"h{household.id}-signed"],
            "responsible_unit": "区房屋征收事务所",
            "rectify_workdays": "0",
            "issue": "1",
        },
    )
    assert response.status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SupervisionOrder)) == 0


@pytest.mark.parametrize("role", ["caseworker", "leader"])
def test_only_the_supervision_office_issues_answers_and_closes(
    client, login_as, project, household, today, role
):
    order = _issue(_keys(project, "区房屋征收事务所"))
    login_as(role)
    assert client.get(f"/supervision/orders/{order.id}").status_code == 200
    assert client.get("/supervision/orders").status_code == 200
    for path, data in (
        ("/supervision/orders/new", {"item": [f"h{household.id}-vacated"], "issue": "1"}),
        (f"/supervision/orders/{order.id}/responses", {"responded_on": "2025-06-18", "text": "x"}),
        (f"/supervision/orders/{order.id}/close", {"closed_on": "2025-06-18"}),
    ):
        assert client.post(path, data=data).status_code == 403
    assert order.status == OrderStatus.OPEN


@pytest.mark.parametrize(
    "role, status", [("leader", 200), ("supervisor", 200), ("admin", 200), ("caseworker", 403)]
)
def test_the_leader_dashboard_counts_orders_per_unit(
    client, login_as, project, household, today, role, status
):
    _issue(_keys(project, "区房屋征收事务所"))
    login_as(role)
    response = client.get("/supervision/dashboard")
    assert response.status_code == status
    if status == 200:
        page = response.get_data(as_text=True)
        row = page[page.index('data-unit="区房屋征收事务所"') :]
        row = row[: row.index("</tr>")]
        cells = [c.split("<")[0] for c in row.split('class="num">')[1:]]
        # open items, late items, orders open, closed on time, closed late, escalated
        assert cells[:2] == ["2", "2"] and cells[3:] == ["0", "0", "0"]
        assert ">1</a>" in row  # one order open, linked to the list
