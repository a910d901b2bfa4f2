"""The overdue list: levels and working days late as counted by hand, grouping, filters, sorting,
and the same list as PDF and Excel."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import pypdf
import pytest

from resettle import clock
from resettle.calendar import china_calendar
from resettle.extensions import db
from resettle.households.models import CaseStep, CompensationMode, Stage
from resettle.sites.models import ResettlementSite
from resettle.supervision import overdue
from resettle.supervision.exports import overdue_pdf, overdue_xlsx
from resettle.supervision.levels import Level, assess, limits_for
from resettle.supervision.models import ItemKind
from resettle.supervision.overdue import UNASSIGNED, OverdueFilter, overdue_items, overdue_page
from tests.jobs import job_file
from tests.pdf import pdf_fonts, pdf_text
from tests.supervision import STANDARD_NODES, TODAY, add_household, add_plan, add_project

CAL = china_calendar()


@pytest.fixture
def project():
    project = add_project(db.session)
    add_plan(db.session, project=project, nodes=STANDARD_NODES)
    return project


def _items(filters=None, today=TODAY):
    return overdue_items(db.session, filters or OverdueFilter(), today, calendar=CAL)[1]


def _by_key(items):
    return {
        (i.kind, i.node_name) if i.kind == ItemKind.NODE else (i.kind, i.case_number, i.stage): i
        for i in items
    }


def test_levels_and_working_days_late_match_hand_counts(project):
    early = add_household(db.session, project, stage=Stage.APPRAISED)
    signed = add_household(db.session, project, stage=Stage.SIGNED, mode=CompensationMode.SWAP)
    add_household(db.session, project, stage=Stage.DEMOLISHED, mode=CompensationMode.SWAP)

    items = _by_key(_items(OverdueFilter(project_id=project.id)))

    # 3 June to 18 June 2025: 4, 5, 6, 9, 10, 11, 12, 13, 16, 17, 18 June = 11 working days.
    # 16 June: 17 and 18 June = 2. 25 June: 19, 20, 23, 24, 25 June ahead = due in 5.
    assert {key: (i.level, i.days_late) for key, i in items.items()} == {
        (ItemKind.NODE, "签约"): (Level.SUPERVISE, 11),
        (ItemKind.NODE, "腾空交房"): (Level.WARN, 2),
        (ItemKind.NODE, "拆除"): (Level.REMIND, -5),
        (ItemKind.STEP, early.case_number, Stage.SIGNED): (Level.SUPERVISE, 11),
        (ItemKind.STEP, early.case_number, Stage.VACATED): (Level.WARN, 2),
        (ItemKind.STEP, early.case_number, Stage.DEMOLISHED): (Level.REMIND, -5),
        (ItemKind.STEP, signed.case_number, Stage.VACATED): (Level.WARN, 2),
        (ItemKind.STEP, signed.case_number, Stage.DEMOLISHED): (Level.REMIND, -5),
    }
    # 净地交付 is due in 6 working days: not on the list yet; the demolished household is done.
    step = items[(ItemKind.STEP, early.case_number, Stage.SIGNED)]
    assert (step.responsible_unit, step.responsible_person, step.leader) == (
        "区房屋征收事务所",
        "张建国",
        "周副区长",
    )
    # Every level agrees with supervision.levels.assess on the same calendar.
    for item in items.values():
        found = assess(item.deadline, None, TODAY, CAL, 5, 10)
        assert (found.level, found.days_late) == (item.level, item.days_late)


def test_level_boundaries_follow_the_projects_n_and_m(project):
    project.remind_workdays, project.supervise_workdays = 6, 11
    add_household(db.session, project, stage=Stage.APPRAISED)
    items = _items(OverdueFilter(project_id=project.id))
    nodes = {i.node_name: i for i in items if i.kind == ItemKind.NODE}
    assert nodes["签约"].level == Level.WARN  # 11 late is not more than M = 11
    assert nodes["净地交付"].level == Level.REMIND  # due in 6 is within N = 6
    limits = limits_for(CAL, TODAY, 6, 11)
    assert limits.level(date(2025, 6, 2)) == Level.SUPERVISE  # 12 working days late
    assert limits.level(date(2025, 6, 3)) == Level.WARN
    assert limits.level(date(2025, 6, 18)) == Level.REMIND  # due today
    assert limits.level(date(2025, 6, 26)) == Level.REMIND
    assert limits.level(date(2025, 6, 27)) is None


def test_counting_across_national_day():
    # 30 September to 9 October 2025: 1 to 8 October are holidays, so 1 working day late.
    project = add_project(db.session)
    add_plan(
        db.session,
        project=project,
        nodes=[{"name": "签约", "stage": Stage.SIGNED, "deadline": date(2025, 9, 30)}],
    )
    household = add_household(db.session, project, stage=Stage.SURVEYED)
    items = _items(OverdueFilter(project_id=project.id), today=date(2025, 10, 9))
    step = next(i for i in items if i.household_id == household.id)
    assert (step.level, step.days_late) == (Level.WARN, 1)


def test_a_deadline_on_the_households_own_step_wins(project):
    household = add_household(db.session, project, stage=Stage.APPRAISED)
    household.steps.append(CaseStep(stage=Stage.SIGNED, deadline=date(2025, 6, 17)))
    db.session.flush()
    mine = [i for i in _items(OverdueFilter(project_id=project.id)) if i.household_id]
    signing = [i for i in mine if i.stage == Stage.SIGNED]
    assert len(signing) == 1
    assert (signing[0].deadline, signing[0].level, signing[0].days_late) == (
        date(2025, 6, 17),
        Level.WARN,
        1,
    )
    # the unit responsible for signing is still the plan's
    assert signing[0].responsible_unit == "区房屋征收事务所"


def test_the_estate_plan_sets_handover_for_households_that_may_get_a_flat():
    site = ResettlementSite(name="督办测试小区", promised_handover_date=date(2026, 6, 30))
    db.session.add(site)
    db.session.flush()
    strict = add_project(db.session, site_id=site.id, supervise_workdays=3)
    add_project(db.session, site_id=site.id, supervise_workdays=2, remind_workdays=2)
    add_plan(
        db.session,
        site_id=site.id,
        nodes=[
            {
                "name": "交付",
                "stage": Stage.HANDED_OVER,
                "deadline": date(2025, 6, 12),  # 4 working days late
                "unit": "区城投公司",
                "person": "陈晓燕",
                "leader": "周副区长",
            }
        ],
    )
    swap = add_household(db.session, strict, stage=Stage.SELECTED, mode=CompensationMode.SWAP)
    money = add_household(db.session, strict, stage=Stage.DEMOLISHED, mode=CompensationMode.MONEY)
    undecided = add_household(db.session, strict, stage=Stage.APPRAISED)  # no mode yet
    items = _items(OverdueFilter(project_id=strict.id))
    by_household = {i.household_id: i for i in items if i.household_id}
    assert set(by_household) == {swap.id, undecided.id}
    assert money.id not in by_household
    step = by_household[swap.id]
    assert (step.stage, step.level, step.days_late, step.responsible_unit) == (
        Stage.HANDED_OVER,
        Level.SUPERVISE,  # the household's project: M = 3
        4,
        "区城投公司",
    )
    node = next(i for i in items if i.kind == ItemKind.NODE)
    # the estate's plan: the largest M of the projects moving in (3): 4 late is 督办
    assert (node.scope, node.level) == ("督办测试小区", Level.SUPERVISE)


def test_grouped_by_unit_most_serious_first_sorted_by_days_late(project):
    for _ in range(2):
        add_household(db.session, project, stage=Stage.APPRAISED)
    page = overdue_page(db.session, OverdueFilter(project_id=project.id), TODAY, calendar=CAL)
    units = [s.unit for s in page.summaries]
    # 区房屋征收事务所 has the 督办 items, 街道办事处 the 警示 ones, 拆除施工单位 reminders only
    assert units == ["区房屋征收事务所", "街道办事处", "拆除施工单位"]
    counts = {s.unit: (s.total, s.late) for s in page.summaries}
    assert counts == {"区房屋征收事务所": (3, 3), "街道办事处": (3, 3), "拆除施工单位": (3, 0)}
    assert page.total == 9
    assert [group[0].unit for group in page.groups] == units
    for _summary, items in page.groups:
        assert [i.days_late for i in items] == sorted((i.days_late for i in items), reverse=True)
        assert items[0].kind == ItemKind.NODE  # the plan node before its households
    assert page.by_level == {Level.REMIND: 3, Level.WARN: 3, Level.SUPERVISE: 3}


@pytest.mark.parametrize("merge_limit", [5000, 0])  # merged part by part, or sorted as one
def test_pages_split_the_list_in_order(project, monkeypatch, merge_limit):
    monkeypatch.setattr(overdue, "MERGE_LIMIT", merge_limit)
    for _ in range(3):
        add_household(db.session, project, stage=Stage.APPRAISED)
    whole = _items(OverdueFilter(project_id=project.id))
    seen = []
    for number in (1, 2, 3):
        page = overdue_page(
            db.session, OverdueFilter(project_id=project.id), TODAY, number, page_size=5
        )
        assert page.pages == 3
        seen += [i.key for _s, items in page.groups for i in items]
    assert seen == [i.key for i in whole]
    assert len(seen) == 12  # 3 plan nodes + 3 households × 3 late steps


@pytest.mark.parametrize("page_size", [1, 2, 3, 4, 7])
def test_pages_merged_part_by_part_match_the_whole_list(project, page_size):
    """Own step deadlines before, between and after the plan's deadlines interleave with the
    plan-deadline parts, which a page may skip only when enough earlier rows are read."""
    for _ in range(3):
        add_household(db.session, project, stage=Stage.APPRAISED)
    for day in (date(2025, 5, 30), date(2025, 6, 10), date(2025, 6, 18), date(2025, 6, 20)):
        household = add_household(db.session, project, stage=Stage.APPRAISED)
        household.steps.append(CaseStep(stage=Stage.SIGNED, deadline=day))
    db.session.flush()
    whole = [i.key for i in _items(OverdueFilter(project_id=project.id))]
    seen: list[str] = []
    number = 1
    while len(seen) < len(whole):
        page = overdue_page(
            db.session, OverdueFilter(project_id=project.id), TODAY, number, page_size=page_size
        )
        seen += [i.key for _s, items in page.groups for i in items]
        number += 1
    assert seen == whole and len(whole) > 12


def test_filters_by_project_unit_and_level(project):
    other = add_project(db.session)
    add_plan(db.session, project=other, nodes=STANDARD_NODES[:1])  # no unit named? it has one
    add_plan_without_unit = add_project(db.session)
    add_plan(
        db.session,
        project=add_plan_without_unit,
        nodes=[{"name": "签约", "stage": Stage.SIGNED, "deadline": date(2025, 6, 3)}],
    )
    add_household(db.session, project, stage=Stage.APPRAISED)
    add_household(db.session, other, stage=Stage.APPRAISED)
    add_household(db.session, add_plan_without_unit, stage=Stage.APPRAISED)

    mine = _items(OverdueFilter(project_id=project.id))
    assert {i.project_id for i in mine} == {project.id}
    street = _items(OverdueFilter(unit="街道办事处"))
    assert {i.responsible_unit for i in street} == {"街道办事处"} and len(street) == 2
    supervise = _items(OverdueFilter(level=Level.SUPERVISE))
    assert {i.level for i in supervise} == {Level.SUPERVISE}
    assert {i.project_id for i in supervise} == {project.id, other.id, add_plan_without_unit.id}
    nobody = _items(OverdueFilter(unit=UNASSIGNED))
    assert {i.project_id for i in nobody} == {add_plan_without_unit.id}
    assert {i.responsible_unit for i in nobody} == {None}
    combined = _items(OverdueFilter(project_id=project.id, unit="区房屋征收事务所"))
    assert [(i.kind, i.level) for i in combined] == [
        (ItemKind.NODE, Level.SUPERVISE),
        (ItemKind.STEP, Level.SUPERVISE),
    ]


def test_done_items_leave_the_list(project):
    household = add_household(db.session, project, stage=Stage.APPRAISED)
    before = {i.key for i in _items(OverdueFilter(project_id=project.id))}
    household.stage = Stage.SIGNED
    household.steps.append(CaseStep(stage=Stage.SIGNED, actual_date=date(2025, 6, 10)))
    db.session.flush()
    after = {i.key for i in _items(OverdueFilter(project_id=project.id))}
    assert before - after == {f"h{household.id}-signed"}


def test_overdue_pdf_is_landscape_with_chinese_embedded_and_signatures(project):
    household = add_household(db.session, project, stage=Stage.APPRAISED, head_name="欧阳娜娜")
    data = overdue_pdf(db.session, OverdueFilter(project_id=project.id), TODAY, calendar=CAL)
    fonts = pdf_fonts(data)
    assert any("CJK" in f.name and f.embedded and f.subset for f in fonts), fonts
    text = pdf_text(data)
    for expected in (
        "督查督办逾期清单",
        "截至2025-06-18",
        "区房屋征收事务所：2项",
        household.case_number + "欧阳娜娜",
        "2025-06-03",
        "张建国",
        "周副区长",
        "制表时间：",
        "第1页共1页",
        "制表人：",
        "督查室负责人：",
    ):
        assert expected in text, expected
    page = pypdf.PdfReader(io.BytesIO(data)).pages[0]
    assert page.mediabox.width > page.mediabox.height  # A4 landscape


def test_overdue_pdf_header_repeats_on_every_page(project):
    for _ in range(40):
        add_household(db.session, project, stage=Stage.APPRAISED)
    data = overdue_pdf(db.session, OverdueFilter(project_id=project.id), TODAY, calendar=CAL)
    pages = len(pypdf.PdfReader(io.BytesIO(data)).pages)
    assert pages >= 3
    for number in range(1, pages + 1):
        text = pdf_text(data, page=number)
        assert "逾期工作日" in text and "包挂领导" in text  # the table head
        assert f"第{number}页共{pages}页" in text


def test_a_long_list_laid_out_by_several_processes_reads_as_one(app, project, monkeypatch):
    for _ in range(40):
        add_household(db.session, project, stage=Stage.APPRAISED)
    filters = OverdueFilter(project_id=project.id)
    one = overdue_pdf(db.session, filters, TODAY, calendar=CAL)
    monkeypatch.setitem(app.config, "RENDER_PROCESSES", 2)
    monkeypatch.setitem(app.config, "RENDER_PARALLEL_MIN_PARTS", 2)
    seen = []
    data = overdue_pdf(
        db.session, filters, TODAY, calendar=CAL, progress=lambda d, t: seen.append((d, t))
    )
    reader = pypdf.PdfReader(io.BytesIO(data))
    pages = len(reader.pages)
    assert pages == len(pypdf.PdfReader(io.BytesIO(one)).pages) >= 3
    for number in range(1, pages + 1):
        text = pdf_text(data, page=number)
        assert "逾期工作日" in text and f"第{number}页共{pages}页" in text
    assert "制表人：" in pdf_text(data, page=pages)

    def titles(outline):
        for item in outline:
            yield from titles(item) if isinstance(item, list) else [item.title]

    bookmarks = list(titles(reader.outline))  # the title, then each unit (责任单位)
    assert bookmarks[0] == "督查督办逾期清单"
    assert any(b.startswith("区房屋征收事务所：") for b in bookmarks), bookmarks
    assert seen[0][0] == 0 and seen[-1][0] == seen[-1][1] > 100


def test_excel_export_keeps_formulas_as_text(project):
    evil = add_project(db.session)
    add_plan(
        db.session,
        project=evil,
        nodes=[
            {
                "name": '=HYPERLINK("http://x","点我")',
                "deadline": date(2025, 6, 3),
                "unit": "@SUM(1+1)",
                "person": "-2+3",
            }
        ],
    )
    add_household(db.session, project, stage=Stage.APPRAISED)
    data = overdue_xlsx(db.session, OverdueFilter(), TODAY, calendar=CAL)
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(values_only=False))
    assert rows[1][0].value == "等级"
    cells = {c.value: c for row in rows for c in row if isinstance(c.value, str)}
    for text in ('=HYPERLINK("http://x","点我")', "@SUM(1+1)", "-2+3"):
        assert cells[text].data_type == "s", text  # stored as text, not a formula
    values = [[c.value for c in row] for row in rows[2:]]
    assert any(v[2] == "区房屋征收事务所" and v[0] == "督办" and v[1] == 11 for v in values)


def test_cli_writes_pdf_and_excel(app, project, tmp_path, monkeypatch):
    add_household(db.session, project, stage=Stage.APPRAISED)
    runner = app.test_cli_runner()
    pdf_path, xlsx_path = tmp_path / "list.pdf", tmp_path / "list.xlsx"
    result = runner.invoke(
        args=[
            "supervision",
            "overdue",
            str(pdf_path),
            "--project",
            project.code,
            "--as-of",
            TODAY.isoformat(),
        ]
    )
    assert result.exit_code == 0, result.output
    assert "区房屋征收事务所" in pdf_text(pdf_path.read_bytes())
    result = runner.invoke(
        args=["supervision", "overdue", str(xlsx_path), "--as-of", TODAY.isoformat()]
    )
    assert result.exit_code == 0, result.output
    assert openpyxl.load_workbook(xlsx_path).active["A2"].value == "等级"
    result = runner.invoke(args=["supervision", "overdue", str(pdf_path), "--project", "NOPE"])
    assert result.exit_code != 0 and "NOPE" in result.output
    for args, message in (
        ([str(tmp_path / "missing" / "list.pdf")], "不存在"),
        ([str(pdf_path), "--as-of", "9999-12-31"], "2100-12-31"),
        ([str(tmp_path / "list.txt")], ".pdf 或 .xlsx"),
    ):
        result = runner.invoke(args=["supervision", "overdue", *args])
        assert result.exit_code == 1 and message in result.output, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not (tmp_path / "list.txt").exists()


# --- the screens -----------------------------------------------------------------------------


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setattr(clock, "today", lambda: TODAY)
    return TODAY


def test_caseworkers_see_the_list_grouped_but_cannot_issue_orders(client, login_as, project, today):
    household = add_household(db.session, project, stage=Stage.APPRAISED)
    login_as("caseworker")
    page = client.get(f"/supervision/overdue?project={project.id}").get_data(as_text=True)
    assert "区房屋征收事务所" in page and household.case_number in page
    groups = [f'data-unit="{unit}"' for unit in ("区房屋征收事务所", "街道办事处", "拆除施工单位")]
    assert page.index(groups[0]) < page.index(groups[1]) < page.index(groups[2])
    assert 'name="item"' not in page  # no checkboxes: orders are the supervision office's
    filtered = client.get(f"/supervision/overdue?project={project.id}&unit=街道办事处")
    body = filtered.get_data(as_text=True)
    assert household.case_number in body
    assert 'data-unit="区房屋征收事务所"' not in body and 'data-unit="街道办事处"' in body


def test_supervisors_get_checkboxes_and_downloads_keep_the_filters(
    client, login_as, project, today
):
    add_household(db.session, project, stage=Stage.APPRAISED)
    login_as("supervisor")
    page = client.get(f"/supervision/overdue?project={project.id}&level=warn")
    body = page.get_data(as_text=True)
    assert body.count('name="item"') == 2  # the 警示 node and the household's vacating step
    assert body.count('action="/supervision/overdue.pdf"') == 1
    assert f'name="project" value="{project.id}"' in body and 'name="level" value="warn"' in body
    started = client.post("/supervision/overdue.pdf", data={"project": project.id, "level": "warn"})
    pdf = job_file(client, started)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data)
    assert "街道办事处" in text and "区房屋征收事务所：" not in text
    started = client.post(
        "/supervision/overdue.xlsx", data={"project": project.id, "level": "warn"}
    )
    xlsx = job_file(client, started)
    assert xlsx.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data)).active
    assert {row[0] for row in sheet.iter_rows(min_row=3, values_only=True)} == {"警示"}


def test_as_of_date_moves_the_list(client, login_as, project, today):
    add_household(db.session, project, stage=Stage.APPRAISED)
    login_as("leader")
    early = client.get(f"/supervision/overdue?project={project.id}&as_of=2025-05-01")
    assert early.status_code == 200
    assert 'data-testid="overdue-total">0<' in early.get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_log_in(client):
    for path in ("/supervision/overdue", "/supervision/overdue.pdf", "/supervision/dashboard"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
