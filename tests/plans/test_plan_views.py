"""Plan screens: the wall chart, editing a node re-plans at once, the calendar page."""

from datetime import date

import sqlalchemy as sa

from resettle.auth.models import Role
from resettle.extensions import db
from resettle.households.models import CaseStep, CompensationMode, Stage
from resettle.jobs.models import Job
from resettle.plans.models import CalendarDay, Plan
from resettle.plans.services import NodeData, plan_for_project, plan_for_site, replan, save_node
from resettle.sites.models import ResettlementSite
from tests.pdf import pdf_text


def _plan(make_project, **overrides):
    project = make_project(land_delivery_date=date(2026, 6, 30), **overrides)
    plan = plan_for_project(db.session, project)
    replan(db.session, plan, today=date(2025, 6, 2))
    return project, plan


def test_wall_chart_page_shows_the_gantt_and_the_responsibilities(client, login_as, make_project):
    _project, plan = _plan(make_project)
    login_as(Role.LEADER)
    page = client.get(f"/plans/{plan.id}").get_data(as_text=True)
    assert "<svg" in page and "签约" in page and "区房屋征收事务所" in page
    assert 'data-testid="deadline-land_delivery">2026-06-30' in page
    assert "编辑" not in page  # a leader reads, never edits


def test_caseworker_makes_a_plan_from_the_template(client, login_as, make_project):
    project = make_project(land_delivery_date=date(2026, 6, 30))
    login_as(Role.CASEWORKER)
    response = client.post(f"/plans/open/project/{project.id}")
    assert response.status_code == 302
    plan = db.session.scalar(sa.select(Plan).where(Plan.project_id == project.id))
    assert [n.name for n in plan.nodes][:2] == ["征收决定公告", "入户调查"]
    assert all(n.planned_finish for n in plan.nodes)


def test_a_plan_made_by_someone_browsing_in_english_is_stored_in_chinese(
    client, login_as, make_project
):
    """Plan names and the stored scheduling problem are Chinese data, not the page language."""
    dated = make_project(land_delivery_date=date(2026, 6, 30))
    undated = make_project(land_delivery_date=None)
    login_as(Role.CASEWORKER)
    client.post("/language", data={"lang": "en", "next": "/plans/"})
    assert '<html lang="en">' in client.get("/plans/").get_data(as_text=True)
    for project in (dated, undated):
        assert client.post(f"/plans/open/project/{project.id}").status_code == 302
    plans = {
        p.project_id: p for p in db.session.scalars(sa.select(Plan).where(Plan.project_id > 0))
    }
    template = db.session.scalar(sa.select(Plan).where(Plan.is_template.is_(True)))
    assert template.name == plans[dated.id].name == "征收项目默认计划"
    assert plans[dated.id].schedule_error is None
    assert plans[undated.id].schedule_error == "未设定承诺日期，无法倒排工期。"
    page = client.get(f"/plans/{plans[undated.id].id}").get_data(as_text=True)
    assert "未设定承诺日期，无法倒排工期。" in page and "Nodes and responsibilities" in page


def test_editing_a_duration_replans_at_once(client, login_as, make_project):
    _project, plan = _plan(make_project)
    signing = next(n for n in plan.nodes if n.key == "signing")
    appraisal = next(n for n in plan.nodes if n.key == "appraisal")
    before = appraisal.planned_finish
    login_as(Role.CASEWORKER)
    response = client.post(
        f"/plans/{plan.id}/nodes/{signing.id}/edit",
        data={
            "name": "签约",
            "duration": str(signing.duration + 20),
            "predecessors": [str(appraisal.id)],
            "lag": "0",
            "stage": "signed",
            "responsible_unit": "区房屋征收事务所",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(type(appraisal), appraisal.id).planned_finish < before


def test_a_blank_predecessor_is_refused_not_taken_for_none(client, login_as, make_project):
    _project, plan = _plan(make_project)
    signing = next(n for n in plan.nodes if n.key == "signing")
    links = [(k.predecessor_id, k.lag) for k in signing.predecessors]
    login_as(Role.CASEWORKER)
    response = client.post(
        f"/plans/{plan.id}/nodes/{signing.id}/edit",
        data={"name": "签约", "duration": str(signing.duration), "predecessors": ["   "]},
    )
    assert response.status_code == 200 and "选择无效" in response.get_data(as_text=True)
    db.session.expire_all()
    assert [(k.predecessor_id, k.lag) for k in signing.predecessors] == links


def test_a_cycle_is_refused_on_the_page_and_nothing_changes(client, login_as, make_project):
    _project, plan = _plan(make_project)
    survey = next(n for n in plan.nodes if n.key == "survey")
    demolition = next(n for n in plan.nodes if n.key == "demolition")
    login_as(Role.CASEWORKER)
    response = client.post(
        f"/plans/{plan.id}/nodes/{survey.id}/edit",
        data={
            "name": "入户调查",
            "duration": "30",
            "predecessors": [str(demolition.id)],
            "lag": "0",
            "stage": "surveyed",
        },
    )
    assert response.status_code == 200
    assert "前置关系形成循环" in response.get_data(as_text=True)
    db.session.expire_all()
    links = db.session.get(type(survey), survey.id).predecessors
    assert [link.predecessor.key for link in links] == ["decision"]


def test_negative_duration_typed_by_hand_gets_a_message(client, login_as, make_project):
    _project, plan = _plan(make_project)
    survey = next(n for n in plan.nodes if n.key == "survey")
    login_as(Role.CASEWORKER)
    response = client.post(
        f"/plans/{plan.id}/nodes/{survey.id}/edit", data={"name": "入户调查", "duration": "-3"}
    )
    assert response.status_code == 200


def _job(client, response):
    """Follow a job's 303 to its JSON status (jobs run inside the request in tests)."""
    assert response.status_code == 303 and "/jobs/" in response.location
    return client.get(response.location, headers={"Accept": "application/json"}).json


def test_a3_pdf_of_the_wall_chart_is_printed_by_a_job(client, login_as, make_project):
    project, plan = _plan(make_project)
    login_as(Role.SUPERVISOR)
    page = client.get(f"/plans/{plan.id}").get_data(as_text=True)
    assert f'action="/plans/{plan.id}/print"' in page and 'method="post"' in page
    assert client.get(f"/plans/{plan.id}/print").status_code == 405  # a GET starts nothing
    status = _job(client, client.post(f"/plans/{plan.id}/print"))
    assert status["state"] == "done", status
    response = client.get(status["result"])
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    text = pdf_text(response.data)
    assert project.name in text and "入户调查" in text  # the title and a node of the chart


def test_the_print_of_a_plan_without_dates_starts_no_job(client, login_as, make_project):
    from resettle.plans.models import PlanKind
    from resettle.plans.services import template_for

    template = template_for(db.session, PlanKind.PROJECT)  # a template has no dates
    login_as(Role.ADMIN)
    response = client.post(f"/plans/{template.id}/print")
    assert response.status_code == 302 and response.location.endswith(f"/plans/{template.id}")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Job)) == 0


def test_caseworker_cannot_edit_templates(client, login_as, make_project):
    from resettle.plans.models import PlanKind
    from resettle.plans.services import template_for

    template = template_for(db.session, PlanKind.PROJECT)
    node = template.nodes[0]
    login_as(Role.CASEWORKER)
    assert client.get(f"/plans/{template.id}/nodes/{node.id}/edit").status_code == 403


def test_admin_adds_a_local_non_working_day_and_plans_move(client, login_as, make_project):
    _project, plan = _plan(make_project)
    sink = next(n for n in plan.nodes if n.key == "land_delivery")
    assert sink.planned_finish == date(2026, 6, 30)
    login_as(Role.ADMIN)
    response = client.post(
        "/plans/calendar",
        data={
            "day-day": "2026-06-30",
            "day-working": "off",
            "day-official": "local",
            "day-note": "防汛停工",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(type(sink), sink.id).planned_finish == date(2026, 6, 29)
    assert db.session.scalar(sa.select(CalendarDay.note)) == "防汛停工"
    page = client.get("/plans/calendar").get_data(as_text=True)
    assert "2026-06-30" in page and "防汛停工" in page


def test_calendar_is_for_admins(client, login_as):
    login_as(Role.CASEWORKER)
    assert client.get("/plans/calendar").status_code == 403


def _badge_after(page: str, testid: str) -> str:
    """The cell with this test id, as text (its date and any badge)."""
    start = page.index(f'data-testid="{testid}"')
    return page[start : page.index("</td>", start)]


def test_a_forecast_through_2027_is_marked_provisional_in_the_plan_table(
    client, login_as, make_project, make_household
):
    # About 580 working days from mid-2025: the estate is forecast to be handed over in 2027.
    site = ResettlementSite(name="东城臻雅苑", promised_handover_date=date(2026, 12, 31))
    db.session.add(site)
    db.session.flush()
    project = make_project(site_id=site.id, transition_months=12)
    waiting = make_household(
        project=project, stage=Stage.VACATED, compensation_mode=CompensationMode.SWAP
    )
    waiting.steps.append(CaseStep(stage=Stage.VACATED, actual_date=date(2025, 3, 3)))
    db.session.flush()
    plan = plan_for_site(db.session, site)
    replan(db.session, plan, today=date(2025, 6, 2))
    handover = next(n for n in plan.nodes if n.key == "handover")
    assert handover.forecast_finish.year == 2027
    login_as(Role.LEADER)
    page = client.get(f"/plans/{plan.id}").get_data(as_text=True)

    cell = _badge_after(page, "forecast-handover")
    assert handover.forecast_finish.isoformat() in cell and "暂定" in cell
    siting = _badge_after(page, "forecast-siting")  # forecast in 2025
    assert "2025-" in siting and "暂定" not in siting
    # the transition-overrun table: the household's flat is forecast in 2027, provisionally
    overrun = _badge_after(page, f"overrun-forecast-{waiting.id}")
    assert handover.forecast_finish.isoformat() in overrun and "暂定" in overrun


def test_forecasts_inside_2026_are_not_marked_provisional(client, login_as, make_project):
    _project, plan = _plan(make_project)
    login_as(Role.LEADER)
    page = client.get(f"/plans/{plan.id}").get_data(as_text=True)
    for node in plan.nodes:
        cell = _badge_after(page, f"forecast-{node.key}")
        assert node.forecast_finish.isoformat() in cell and "暂定" not in cell


def test_an_overrun_forecast_inside_2026_is_not_marked_provisional(
    client, login_as, make_project, make_household
):
    site = ResettlementSite(name="西城苑", promised_handover_date=date(2026, 6, 30))
    db.session.add(site)
    db.session.flush()
    project = make_project(site_id=site.id, transition_months=12)
    waiting = make_household(
        project=project, stage=Stage.VACATED, compensation_mode=CompensationMode.SWAP
    )
    waiting.steps.append(CaseStep(stage=Stage.VACATED, actual_date=date(2025, 1, 6)))
    db.session.flush()
    plan = plan_for_site(db.session, site)
    today = date(2025, 12, 1)
    # only the handover is left: started, 20 working days, forecast in 2025-12 or 2026-01
    for node in plan.nodes:
        if node.key != "handover":
            node.actual_start = node.actual_finish = date(2025, 11, 28)
    handover = next(n for n in plan.nodes if n.key == "handover")
    save_node(
        db.session,
        plan,
        handover,
        NodeData(
            name=handover.name,
            duration=60,
            stage=handover.stage,
            predecessors=tuple((link.predecessor_id, link.lag) for link in handover.predecessors),
        ),
        today=today,
    )
    assert handover.forecast_finish.year == 2026 and not handover.forecast_provisional
    login_as(Role.LEADER)
    page = client.get(f"/plans/{plan.id}").get_data(as_text=True)
    overrun = _badge_after(page, f"overrun-forecast-{waiting.id}")
    assert handover.forecast_finish.isoformat() in overrun and "暂定" not in overrun


def test_an_estate_plan_printed_by_an_account_of_one_project_is_its_job(
    client, login_as, make_project
):
    site = ResettlementSite(name="南城苑", promised_handover_date=date(2027, 6, 30))
    db.session.add(site)
    db.session.flush()
    project = make_project(site_id=site.id)
    plan = plan_for_site(db.session, site)
    replan(db.session, plan, today=date(2025, 6, 2))
    user = login_as(Role.CASEWORKER, projects=[project])
    status = _job(client, client.post(f"/plans/{plan.id}/print"))
    assert status["state"] == "done", status
    assert client.get(status["result"]).data.startswith(b"%PDF")
    job = db.session.scalars(sa.select(Job).where(Job.user_id == user.id)).one()
    assert job.project_id == project.id  # seen through the project that uses the estate
