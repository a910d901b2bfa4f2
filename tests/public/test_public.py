"""The public pages: projects with live progress, disclosures in their period, a resident's own
case behind the case number and six ID characters, notice verification, limits, noindex."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from resettle import clock
from resettle.audit.models import AuditEvent
from resettle.auth.models import Role
from resettle.disclosure import services as disclosure_services
from resettle.disclosure.models import DisclosureKind
from resettle.disclosure.services import (
    DisclosureData,
    approve_disclosure,
    prepare_disclosure,
    store_disclosure_pdf,
    stored_pdf,
    withdraw_disclosure,
)
from resettle.extensions import db, limiter
from resettle.households.models import CaseStep, CompensationMode, Stage
from resettle.notices.models import NoticeType
from resettle.notices.services import issue_notice
from resettle.plans.models import PlanNode
from resettle.plans.services import plan_for_site, replan
from resettle.sites.models import ResettlementSite
from resettle.translate import gettext
from tests.conftest import FreshContextClient, make_test_app
from tests.pdf import pdf_text
from tests.supervision import add_plan, id_number

TODAY = date(2025, 7, 1)
ID_NUMBER = "11010519491231002X"
NEUTRAL = "没有与此案卷号和这六位字符相符的案卷"


@pytest.fixture(autouse=True)
def today(monkeypatch):
    monkeypatch.setattr(clock, "today", lambda: TODAY)


@pytest.fixture
def case(make_household):
    household = make_household(
        head_name="欧阳娜娜",
        head_id_number=ID_NUMBER,
        phone="13912345678",
        stage=Stage.SIGNED,
        compensation_mode=CompensationMode.SWAP,
    )
    household.steps.append(CaseStep(stage=Stage.SURVEYED, actual_date=date(2025, 4, 1)))
    household.steps.append(CaseStep(stage=Stage.SIGNED, actual_date=date(2025, 5, 20)))
    add_plan(
        db.session,
        project=household.project,
        nodes=[
            {"name": "腾空交房", "stage": Stage.VACATED, "deadline": date(2025, 8, 29)},
        ],
    )
    db.session.flush()
    return household


def _lookup(client, case_number, suffix):
    return client.post("/public/status", data={"case_number": case_number, "id_suffix": suffix})


def test_a_resident_sees_the_own_case_with_the_next_step_and_its_deadline(client, case):
    page = _lookup(client, case.case_number, "31002x")  # lower-case x accepted
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert case.case_number in text and "欧**娜" in text and "欧阳娜娜" not in text
    assert "腾空交房" in text and "2025-08-29" in text  # what happens next, by when
    assert "2025-05-20" in text  # signed on
    assert ID_NUMBER not in text and "13912345678" not in text
    assert page.headers["X-Robots-Tag"].startswith("noindex")


def test_every_wrong_input_gets_one_identical_message(client, case):
    answers = [
        _lookup(client, case.case_number, "000000"),  # wrong suffix
        _lookup(client, "ZQ-NO-SUCH-CASE", "31002X"),  # wrong case number
        _lookup(client, case.case_number, "1002X"),  # too short
        _lookup(client, "x" * 39, "31002X"),
    ]
    bodies = {a.get_data(as_text=True) for a in answers}
    assert all(a.status_code == 200 for a in answers)
    assert all(NEUTRAL in b for b in bodies)
    assert (
        len(
            {
                b.replace("x" * 39, "").replace("ZQ-NO-SUCH-CASE", "").replace(case.case_number, "")
                for b in bodies
            }
        )
        == 1
    )  # the page differs only in what was typed


def test_every_lookup_is_audited_with_a_hashed_identifier(client, case):
    _lookup(client, case.case_number, "000000")
    _lookup(client, case.case_number, "31002X")
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "lookup").order_by(AuditEvent.id)
    ).all()
    assert [e.changes["found"][1] for e in events] == [False, True]
    assert events[1].entity_id == case.id and events[0].entity_id is None
    hashed = events[0].changes["case"][1]
    assert hashed == events[1].changes["case"][1] and len(hashed) == 24
    assert all(case.case_number not in str(e.changes) for e in events)


def test_a_resident_looks_up_without_cookies_and_is_given_none(app, case):
    """The lookup needs no session (phones' in-app browsers may refuse cookies), even with
    CSRF protection on for the staff forms, and leaves nothing behind on the phone."""
    strict = make_test_app(app.config["SQLALCHEMY_DATABASE_URI"], WTF_CSRF_ENABLED=True)
    strict.test_client_class = FreshContextClient
    phone = strict.test_client(use_cookies=False)
    form = phone.get("/public/status")
    assert form.status_code == 200 and "Set-Cookie" not in form.headers
    answer = phone.post(
        "/public/status", data={"case_number": case.case_number, "id_suffix": "31002X"}
    )
    assert answer.status_code == 200 and "Set-Cookie" not in answer.headers
    assert "欧**娜" in answer.get_data(as_text=True)
    wrong = phone.post("/public/status", data={"case_number": case.case_number, "id_suffix": "1"})
    assert NEUTRAL in wrong.get_data(as_text=True) and "Set-Cookie" not in wrong.headers


@pytest.fixture
def limited(app):
    """An app with the limits on (the suite's app has them off), in the test's transaction."""
    limited_app = make_test_app(
        app.config["SQLALCHEMY_DATABASE_URI"],
        RATELIMIT_ENABLED=True,
        PUBLIC_LOOKUP_LIMIT_IP="8 per minute",
        PUBLIC_LOOKUP_LIMIT_CASE="3 per 15 minutes",
        PUBLIC_VERIFY_LIMIT_IP="4 per minute",
    )
    limited_app.test_client_class = FreshContextClient
    limiter.reset()
    yield limited_app.test_client()
    limiter.reset()
    # The limiter is one object for every app: the suite's app goes on without limits.
    limiter.enabled = app.config["RATELIMIT_ENABLED"]


def test_failed_tries_on_one_case_are_refused_for_a_while_then_the_address(limited, case):
    for _ in range(3):
        assert NEUTRAL in _lookup(limited, case.case_number, "000000").get_data(as_text=True)
    refused = _lookup(limited, case.case_number, "31002X")  # even the right one, for a while
    assert refused.status_code == 429
    assert "15 分钟后再试" in refused.get_data(as_text=True)
    assert refused.headers["X-Robots-Tag"].startswith("noindex")
    # another case from the same address still works, until the address's own limit
    assert _lookup(limited, "OTHER-1", "000000").status_code == 200
    statuses = [_lookup(limited, f"OTHER-{n}", "000000").status_code for n in range(2, 8)]
    assert statuses[:3] == [200, 200, 200] and statuses[-1] == 429


def test_successful_lookups_do_not_use_up_the_case_limit(limited, case):
    for _ in range(5):
        assert _lookup(limited, case.case_number, "31002X").status_code == 200


def test_a_notice_is_verified_by_number_and_code(client, limited, case):
    notice = issue_notice(db.session, case, NoticeType.VACATING, user=None, today=TODAY)
    good = client.get(
        "/public/verify", query_string={"number": notice.number, "code": notice.check_code.lower()}
    )
    text = good.get_data(as_text=True)
    assert "真实有效" in text and "腾空交房通知" in text and "欧**娜" in text
    assert "2025-07-01" in text and ID_NUMBER not in text
    bad = client.get("/public/verify", query_string={"number": notice.number, "code": "ABCDEFGH"})
    assert "真实有效" not in bad.get_data(as_text=True)
    assert "没有与此文号和核验码相符的通知书" in bad.get_data(as_text=True)
    answers = [limited.get("/public/verify?number=x&code=y").status_code for _ in range(5)]
    assert answers == [200, 200, 200, 200, 429]


def test_a_notice_number_typed_on_a_phone_keyboard_verifies(client, case):
    """Phone keyboards have no 〔〕: any bracket pair, full-width digits, spaces or no 号 find
    the same genuine notice; another number still does not."""
    notice = issue_notice(db.session, case, NoticeType.VACATING, user=None, today=TODAY)
    prefix, rest = notice.number.split("〔")
    year, sequence = rest.rstrip("号").split("〕")
    wide = str.maketrans("0123456789", "０１２３４５６７８９")
    typed = [
        f"{prefix}[{year}]{sequence}号",
        f"{prefix}({year}){sequence}",
        f"{prefix}（{year}）{sequence}号",
        f"{prefix}【{year}】{sequence}号",
        f" {prefix} 〔{year}〕 {sequence} 号 ",
        f"{prefix}（{year.translate(wide)}）{sequence.translate(wide)}号",
    ]
    for number in typed:
        page = client.get(
            "/public/verify", query_string={"number": number, "code": notice.check_code}
        ).get_data(as_text=True)
        assert "真实有效" in page, number
    other = client.get(
        "/public/verify",
        query_string={"number": f"{prefix}[{year}]{int(sequence) + 1}", "code": notice.check_code},
    ).get_data(as_text=True)
    assert "真实有效" not in other


def _disclosure(project, make_user, kind=DisclosureKind.SURVEY):
    disclosure = prepare_disclosure(
        db.session,
        project,
        DisclosureData(
            kind=kind,
            title="调查登记结果公示",
            period_start=TODAY,
            period_end=TODAY + timedelta(days=7),
        ),
        user=make_user(Role.CASEWORKER),
        today=TODAY,
    )
    return disclosure


def test_project_page_shows_live_counts_signing_rate_and_disclosures_in_period(
    client, case, make_household, make_user, monkeypatch
):
    project = case.project
    make_household(project=project, stage=Stage.APPRAISED, head_id_number=id_number(701))
    draft = _disclosure(project, make_user)
    page = client.get(f"/public/projects/{project.code}").get_data(as_text=True)
    assert project.name in page and "50.0%" in page  # 1 of 2 signed
    assert draft.title not in page  # not approved: not public
    assert client.get(f"/public/disclosures/{draft.id}").status_code == 404
    approve_disclosure(db.session, draft, user=make_user(Role.SUPERVISOR), today=TODAY)
    page = client.get(f"/public/projects/{project.code}").get_data(as_text=True)
    assert draft.title in page and "腾空交房" in page  # the plan's node on the chart
    shown = client.get(f"/public/disclosures/{draft.id}").get_data(as_text=True)
    assert case.case_number in shown and "欧**娜" in shown and draft.snapshot_sha256 in shown
    store_disclosure_pdf(db.session, draft)  # what the job started on publishing does
    pdf = client.get(f"/public/disclosures/{draft.id}.pdf")
    assert pdf.headers["Content-Type"] == "application/pdf" and "欧**娜" in pdf_text(pdf.data)
    make_household(
        project=project, stage=Stage.SIGNED, head_id_number=id_number(702)
    )  # live: the counts move at once
    assert "66.7%" in client.get(f"/public/projects/{project.code}").get_data(as_text=True)
    monkeypatch.setattr(clock, "today", lambda: TODAY + timedelta(days=8))  # period over
    assert client.get(f"/public/disclosures/{draft.id}").status_code == 404
    assert draft.title not in client.get(f"/public/projects/{project.code}").get_data(as_text=True)


def test_the_public_pdf_is_the_stored_one_byte_for_byte(client, case, make_user, monkeypatch):
    disclosure = _disclosure(case.project, make_user)
    approve_disclosure(db.session, disclosure, user=make_user(Role.SUPERVISOR), today=TODAY)
    stored = store_disclosure_pdf(db.session, disclosure)
    data = stored.pdf

    def no_rendering(*args, **kwargs):
        raise AssertionError("a public request rendered a PDF")

    monkeypatch.setattr(disclosure_services, "render_pdf", no_rendering)
    for _ in range(2):
        response = client.get(f"/public/disclosures/{disclosure.id}.pdf")
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        assert response.data == data  # the stored bytes, not a new rendering
        assert hashlib.sha256(response.data).hexdigest() == stored.sha256
        assert response.headers["ETag"].strip('"') == stored.sha256
    assert "欧**娜" in pdf_text(data) and case.head_id_number not in pdf_text(data)


def test_before_its_pdf_is_made_the_public_route_says_it_is_being_prepared(
    client, case, make_user, monkeypatch
):
    disclosure = _disclosure(case.project, make_user)
    approve_disclosure(db.session, disclosure, user=make_user(Role.SUPERVISOR), today=TODAY)

    def no_rendering(*args, **kwargs):
        raise AssertionError("a public request rendered a PDF")

    monkeypatch.setattr(disclosure_services, "render_pdf", no_rendering)
    response = client.get(f"/public/disclosures/{disclosure.id}.pdf")
    assert response.status_code == 503 and response.mimetype == "text/html"
    assert int(response.headers["Retry-After"]) > 0
    page = response.get_data(as_text=True)
    assert 'data-testid="pdf-pending"' in page and 'lang="zh-CN"' in page
    assert disclosure.title in page
    with client.application.test_request_context():
        message = gettext(
            "The PDF of this disclosure is being prepared. Please try again in a few minutes."
        )
    assert message in page  # in Chinese, the public pages' language
    assert stored_pdf(db.session, disclosure.id) is None  # nothing was rendered or stored
    assert case.case_number not in page


def test_a_withdrawn_disclosure_leaves_a_notice_of_withdrawal(client, case, make_user):
    disclosure = _disclosure(case.project, make_user)
    supervisor = make_user(Role.SUPERVISOR)
    approve_disclosure(db.session, disclosure, user=supervisor, today=TODAY)
    store_disclosure_pdf(db.session, disclosure)
    withdraw_disclosure(db.session, disclosure, reason="面积数据有误", user=supervisor)
    page = client.get(f"/public/disclosures/{disclosure.id}").get_data(as_text=True)
    assert "已撤回" in page and "面积数据有误" in page
    assert case.case_number not in page  # the rows are gone from public view
    assert client.get(f"/public/disclosures/{disclosure.id}.pdf").status_code == 404


def test_public_pages_need_no_login_and_are_noindex(client, case):
    for path in (
        "/public/",
        f"/public/projects/{case.project.code}",
        "/public/status",
        "/public/verify",
        "/public/projects/NO-SUCH",
    ):
        response = client.get(path)
        assert response.status_code == (404 if path.endswith("NO-SUCH") else 200), path
        assert response.headers["X-Robots-Tag"].startswith("noindex"), path
        assert "/login" not in response.headers.get("Location", "")


def test_project_pages_are_kept_for_a_few_seconds_then_rendered_again(
    app, client, case, make_household, monkeypatch
):
    from resettle.public import views

    monkeypatch.setitem(app.config, "PUBLIC_PAGE_CACHE_SECONDS", 5)
    monkeypatch.setattr(views, "_PAGES", {})
    clock_now = [1000.0]
    monkeypatch.setattr(views.time, "monotonic", lambda: clock_now[0])
    path = f"/public/projects/{case.project.code}"
    assert "100.0%" in client.get(path).get_data(as_text=True)  # 1 of 1 signed
    make_household(project=case.project, stage=Stage.APPRAISED, head_id_number=id_number(703))
    clock_now[0] += 4.9
    assert "100.0%" in client.get(path).get_data(as_text=True)  # served from memory
    clock_now[0] += 0.2
    assert "50.0%" in client.get(path).get_data(as_text=True)  # 5 s later: rendered again


def test_the_residents_page_agrees_with_the_staff_services_for_every_demo_household(
    app, monkeypatch
):
    """The lookup reads plain columns on its own (it is what a rush hits); what it shows must
    be what the staff pages compute from the models: deadlines (plan and own step), the
    allowance figures and the flats, for households of every stage and mode."""
    from resettle.audit.services import acting_as
    from resettle.demo.services import DEMO_AS_OF, seed_demo
    from resettle.funds.models import PaymentKind
    from resettle.funds.services import allowance_statement
    from resettle.households.models import Household
    from resettle.households.services import next_stage, record_payment, step_for
    from resettle.plans.deadlines import household_deadlines
    from resettle.plans.services import replan_all
    from resettle.public.services import lookup_case

    monkeypatch.setattr(clock, "today", lambda: DEMO_AS_OF)
    with acting_as("demo-seed"):
        seed_demo(db.session, households=120, seed=11)
        replan_all(db.session)
    households = db.session.scalars(sa.select(Household).order_by(Household.id)).all()
    for n, h in enumerate(households):  # own step deadlines and allowance payments too
        if n % 4 == 0 and (stage := next_stage(h)) is not None:
            step = step_for(h, stage) or CaseStep(stage=stage)
            step.deadline = DEMO_AS_OF + timedelta(days=n)
            if step not in h.steps:
                h.steps.append(step)
        vacated = step_for(h, Stage.VACATED)
        if n % 3 == 0 and h.compensation_mode != CompensationMode.MONEY and vacated:
            record_payment(
                db.session,
                h,
                kind=PaymentKind.TEMPORARY_ALLOWANCE,
                amount=Decimal("1234.56") * (n % 5 + 1),
                paid_on=DEMO_AS_OF,
                voucher_number=f"T-{n}",
                payee="",
                operator=None,
                today=DEMO_AS_OF,
            )
    db.session.flush()
    with_allowance = paid = 0
    for h in households:
        with app.test_request_context("/public/status", method="POST"):
            shown = lookup_case(
                db.session, h.case_number.lower(), h.head_id_number[-6:], DEMO_AS_OF
            )
        deadlines = household_deadlines(db.session, h)
        for step in shown.steps:
            expected = deadlines.get(step.stage)
            assert step.deadline == (expected.deadline if expected else None), h.case_number
            assert step.provisional == bool(expected and expected.provisional)
        statement = allowance_statement(db.session, h, as_of=DEMO_AS_OF)
        if statement is None:
            assert shown.allowance is None, h.case_number
        else:
            with_allowance += 1
            assert (shown.allowance["accrued"], shown.allowance["paid"]) == (
                statement.accrued,
                statement.paid,
            )
            assert shown.allowance["months_paid"] == statement.months_paid
            paid += statement.paid > 0
        assert [f["label"] for f in shown.flats] == [
            u.building.site.name + u.label for u in sorted(h.units, key=lambda u: u.id)
        ]
    assert with_allowance >= 10 and paid >= 3  # households in transition, some paid


def _estate_for(case, promised: date, durations: dict[str, int] | None = None):
    """An estate for the case's project, its plan scheduled from TODAY (the default template,
    about 580 working days, unless some durations are given)."""
    site = ResettlementSite(name="东城臻雅苑", promised_handover_date=promised)
    db.session.add(site)
    db.session.flush()
    case.project.site_id = site.id
    plan = plan_for_site(db.session, site)
    for node in plan.nodes:
        node.duration = (durations or {}).get(node.key, node.duration)
    replan(db.session, plan, today=TODAY)
    db.session.flush()
    return next(n for n in plan.nodes if n.key == "handover")


def _handover_line(page: str) -> str:
    start = page.index("预计交房")
    return page[start : page.index("</p>", start)]


def test_a_resident_expects_the_forecast_handover_marked_provisional_through_2027(client, case):
    handover = _estate_for(case, date(2026, 12, 31))
    assert handover.forecast_finish.year == 2027  # later than the promised 2026-12-31
    page = _lookup(client, case.case_number, "31002X").get_data(as_text=True)
    line = _handover_line(page)
    assert handover.forecast_finish.isoformat() in line and "暂定" in line
    assert "（预测；计划期限为 2026-12-31）" in line  # the deadline, said beside it


def test_a_resident_expects_a_forecast_inside_2026_without_provisional(client, case):
    # a shorter build: forecast in 2026, after the promised 2025-12-31
    handover = _estate_for(case, date(2025, 12, 31), {"topping": 60, "acceptance": 20})
    assert handover.forecast_finish.year == 2026
    page = _lookup(client, case.case_number, "31002X").get_data(as_text=True)
    line = _handover_line(page)
    assert handover.forecast_finish.isoformat() in line and "暂定" not in line


def test_a_resident_ahead_of_plan_expects_the_deadline_not_an_earlier_forecast(client, case):
    handover = _estate_for(case, date(2026, 12, 31), {"topping": 60, "acceptance": 20})
    assert handover.forecast_finish < handover.planned_finish == date(2026, 12, 31)
    page = _lookup(client, case.case_number, "31002X").get_data(as_text=True)
    line = _handover_line(page)
    assert "2026-12-31" in line and handover.forecast_finish.isoformat() not in line
    assert "暂定" not in line


def test_the_project_chart_marks_a_provisional_forecast(client, case):
    handover = _estate_for(case, date(2026, 12, 31))
    build = db.session.scalar(
        sa.select(PlanNode).where(PlanNode.plan_id == handover.plan_id, PlanNode.key == "siting")
    )
    page = client.get(f"/public/projects/{case.project.code}").get_data(as_text=True)
    expected = f'预计 {handover.forecast_finish.isoformat()} <span class="pub-tag">暂定</span>'
    assert expected in page
    assert f"预计 {build.forecast_finish.isoformat()} <span" not in page  # 2025: no tag
