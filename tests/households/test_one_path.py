"""One path per household: the staff household page, the resident's case page and the
supervision office's overdue list show the same stages, the same next stage and the same
deadlines, for every compensation mode (none yet, money, swap, mixed) at every stage."""

from __future__ import annotations

import re
from datetime import date

import pytest

from resettle.extensions import db
from resettle.households import stages
from resettle.households.models import CompensationMode, Stage
from resettle.public.services import case_status, find_case
from resettle.sites.models import ResettlementSite
from resettle.supervision.overdue import OverdueFilter, overdue_items
from tests.supervision import TODAY, add_household, add_plan, add_project
from tests.supervision.test_overdue import CAL

# Every stage's deadline is in the past on TODAY (18 June 2025): the project's plan sets all
# but the handover, the estate's plan sets the handover.
PROJECT_DEADLINES = {
    Stage.SURVEYED: date(2025, 5, 6),
    Stage.APPRAISED: date(2025, 5, 7),
    Stage.SIGNED: date(2025, 5, 8),
    Stage.VACATED: date(2025, 5, 9),
    Stage.DEMOLISHED: date(2025, 5, 12),
    Stage.SELECTED: date(2025, 5, 13),
    Stage.SETTLED: date(2025, 5, 15),
    Stage.CLOSED: date(2025, 5, 16),
}
HANDOVER_DEADLINE = date(2025, 5, 14)
DEADLINES = {**PROJECT_DEADLINES, Stage.HANDED_OVER: HANDOVER_DEADLINE}

FULL = tuple(Stage)
WITHOUT_FLAT = tuple(s for s in Stage if s not in (Stage.SELECTED, Stage.HANDED_OVER))
EXPECTED_PATH = {
    None: FULL,  # the mode is not known yet: selection and handover cannot be excluded
    CompensationMode.MONEY: WITHOUT_FLAT,
    CompensationMode.SWAP: FULL,
    CompensationMode.MIXED: FULL,
}
CASES = [
    (mode, stage)
    for mode in EXPECTED_PATH
    for stage in Stage
    if stage in EXPECTED_PATH[mode]  # a money-only household never stands at a flat stage
]


@pytest.fixture
def project():
    site = ResettlementSite(name="路径测试小区", promised_handover_date=date(2026, 6, 30))
    db.session.add(site)
    db.session.flush()
    project = add_project(db.session, site_id=site.id)
    add_plan(
        db.session,
        project=project,
        nodes=[
            {"name": f"项目节点{s.value}", "stage": s, "deadline": d, "unit": "区征收事务所"}
            for s, d in PROJECT_DEADLINES.items()
        ],
    )
    add_plan(
        db.session,
        site_id=site.id,
        nodes=[{"name": "交付", "stage": Stage.HANDED_OVER, "deadline": HANDOVER_DEADLINE}],
    )
    return project


def staff_timeline(client, household) -> list[tuple[Stage, str, date | None, bool]]:
    """(stage, done/next/todo, deadline, shown late) of each row of the household page's
    timeline."""
    page = client.get(f"/households/{household.id}").get_data(as_text=True)
    timeline = page.split('<ol class="timeline">', 1)[1].split("</ol>", 1)[0]
    rows = []
    for state, stage, body in re.findall(
        r'<li class="(\w+)" data-stage="(\w+)">(.*?)</li>', timeline, re.S
    ):
        deadline = re.search(r'timeline-deadline">[^<]*?(\d{4}-\d{2}-\d{2})', body)
        rows.append(
            (
                Stage(stage),
                state,
                date.fromisoformat(deadline[1]) if deadline else None,
                f'data-testid="late-{stage}"' in body,
            )
        )
    return rows


def public_timeline(household):
    conn = db.session.connection()
    case = find_case(conn, household.case_number, household.head_id_number[-6:])
    return case_status(conn, case, TODAY)


def supervised_stages(household) -> dict[Stage, date]:
    items = overdue_items(
        db.session, OverdueFilter(project_id=household.project_id), TODAY, calendar=CAL
    )[1]
    return {
        i.stage: i.deadline for i in items if i.household_id == household.id and i.days_late > 0
    }


@pytest.mark.parametrize(("mode", "stage"), CASES, ids=[f"{m}-{s.value}" for m, s in CASES])
def test_staff_page_public_page_and_supervision_agree(
    project, client, login_as, monkeypatch, mode, stage
):
    monkeypatch.setattr("resettle.clock.today", lambda: TODAY)
    household = add_household(db.session, project, stage=stage, mode=mode)
    login_as("caseworker")
    path = EXPECTED_PATH[mode]
    expected_next = next((s for s in path if path.index(s) > path.index(stage)), None)
    still_open = [s for s in path if path.index(s) > path.index(stage)]

    staff = staff_timeline(client, household)
    public = public_timeline(household)
    supervised = supervised_stages(household)

    assert stages.path(mode) == path
    # the same stages, in the same order
    assert [s for s, _state, _due, _late in staff] == list(path)
    assert [s.stage for s in public.steps] == list(path)
    # the same next stage
    assert [s for s, state, _due, _late in staff if state == "next"] == (
        [expected_next] if expected_next else []
    )
    assert (public.next_step.stage if public.next_step else None) == expected_next
    # the same deadlines, each from the plan that sets it
    assert {s: due for s, _state, due, _late in staff} == {s: DEADLINES[s] for s in path}
    assert {s.stage: s.deadline for s in public.steps} == {s: DEADLINES[s] for s in path}
    # every open stage on the path is on the supervision list (all deadlines have passed),
    # and nothing else is
    assert supervised == {s: DEADLINES[s] for s in still_open}
    # and the same stages are late: every open one, on each page
    assert [s for s, _state, _due, late in staff if late] == still_open
    assert [s.stage for s in public.steps if s.late] == still_open


# --- late: working days, the household's own deadline winning ------------------------------

FRIDAY = date(2025, 6, 13)
SATURDAY, MONDAY = date(2025, 6, 14), date(2025, 6, 16)


def late_everywhere(client, household, today) -> dict[str, bool]:
    """Whether the signing step is shown late on each page a person reads, on `today`."""
    detail = client.get(f"/households/{household.id}").get_data(as_text=True)
    listed = client.get(f"/households/?project={household.project_id}&overdue=1").get_data(
        as_text=True
    )
    public = {s.stage: s.late for s in public_timeline_on(household, today).steps}
    items = overdue_items(
        db.session, OverdueFilter(project_id=household.project_id), today, calendar=CAL
    )[1]
    signing = [i for i in items if i.household_id == household.id and i.stage == Stage.SIGNED]
    return {
        "staff page": 'data-testid="late-signed"' in detail,
        "household list (overdue only)": f">{household.case_number}</a>" in listed,
        "resident's page": public[Stage.SIGNED],
        "supervision list": bool(signing) and signing[0].days_late > 0,
    }


def public_timeline_on(household, today):
    conn = db.session.connection()
    case = find_case(conn, household.case_number, household.head_id_number[-6:])
    return case_status(conn, case, today)


@pytest.mark.parametrize("mode", [None, CompensationMode.SWAP])
def test_late_is_counted_in_working_days_on_every_page(client, login_as, monkeypatch, mode):
    project = add_project(db.session)
    add_plan(
        db.session,
        project=project,
        nodes=[{"name": "签约", "stage": Stage.SIGNED, "deadline": FRIDAY, "unit": "征收所"}],
    )
    household = add_household(db.session, project, stage=Stage.APPRAISED, mode=mode)
    login_as("caseworker")
    pages = ("staff page", "household list (overdue only)", "resident's page", "supervision list")

    # due on Friday: not late on Saturday (no working day has passed), late on Monday
    monkeypatch.setattr("resettle.clock.today", lambda: SATURDAY)
    assert late_everywhere(client, household, SATURDAY) == dict.fromkeys(pages, False)
    monkeypatch.setattr("resettle.clock.today", lambda: MONDAY)
    assert late_everywhere(client, household, MONDAY) == dict.fromkeys(pages, True)


def test_the_households_own_deadline_wins_on_every_page(client, login_as, monkeypatch):
    from resettle.households.models import CaseStep

    project = add_project(db.session)
    add_plan(
        db.session,
        project=project,
        nodes=[{"name": "签约", "stage": Stage.SIGNED, "deadline": FRIDAY, "unit": "征收所"}],
    )
    household = add_household(db.session, project, stage=Stage.APPRAISED)
    # the caseworker gave this household until Wednesday: the plan's Friday does not count
    household.steps.append(CaseStep(stage=Stage.SIGNED, deadline=date(2025, 6, 18)))
    db.session.flush()
    login_as("caseworker")
    pages = ("staff page", "household list (overdue only)", "resident's page", "supervision list")

    monkeypatch.setattr("resettle.clock.today", lambda: MONDAY)
    assert late_everywhere(client, household, MONDAY) == dict.fromkeys(pages, False)
    thursday = date(2025, 6, 19)
    monkeypatch.setattr("resettle.clock.today", lambda: thursday)
    assert late_everywhere(client, household, thursday) == dict.fromkeys(pages, True)


def test_the_wall_charts_count_late_in_working_days(monkeypatch):
    """The staff wall chart and the public project chart say late as every other page does."""
    from resettle.plans.views import gantt_rows
    from resettle.public.services import public_gantt

    project = add_project(db.session)
    plan = add_plan(
        db.session,
        project=project,
        nodes=[{"name": "签约", "stage": Stage.SIGNED, "deadline": FRIDAY, "unit": "征收所"}],
    )
    for today, late in ((SATURDAY, False), (MONDAY, True)):
        monkeypatch.setattr("resettle.clock.today", lambda today=today: today)
        (row,) = gantt_rows(plan)
        (bar,) = public_gantt(db.session, project, today)["bars"]
        assert (row.late, bar.late) == (late, late), today
