"""The wall chart (挂图作战): what a leader sees on the SVG and on the printed A3 sheet."""

from __future__ import annotations

import io
import time
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta

import pypdf
import pytest

from resettle.plans.gantt import GanttRow, render_gantt_pdf, render_gantt_svg
from tests.pdf import pdf_fonts, pdf_page_count, pdf_text

SVG = "{http://www.w3.org/2000/svg}"
TODAY = date(2026, 3, 16)


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield


def node(name: str, start: date, finish: date, **overrides) -> GanttRow:
    values = {
        "id": name,
        "name": name,
        "responsible_unit": "东城区征收办",
        "responsible_person": "李四",
        "leader": "王副区长",
        "planned_start": start,
        "planned_finish": finish,
    }
    values.update(overrides)
    return GanttRow(**values)


def sample_rows() -> list[GanttRow]:
    return [
        node(
            "入户调查登记",
            date(2026, 3, 2),
            date(2026, 3, 13),
            actual_start=date(2026, 3, 2),
            actual_finish=date(2026, 3, 12),
            critical=True,
        ),
        node(
            "房屋评估",
            date(2026, 3, 16),
            date(2026, 3, 16),
            actual_start=date(2026, 3, 16),
            forecast_start=date(2026, 3, 16),
            forecast_finish=date(2026, 3, 16),
        ),
        node(
            "签约",
            date(2026, 3, 23),
            date(2026, 4, 10),
            forecast_start=date(2026, 3, 30),
            forecast_finish=date(2026, 4, 17),
            critical=True,
            late=True,
            slip=5,
        ),
        node("征收决定公告", date(2026, 4, 20), date(2026, 4, 20), milestone=True),
        node(
            "安置房交付",
            date(2027, 1, 4),
            date(2027, 1, 29),
            provisional=True,
            responsible_unit="城投公司",
            responsible_person="王五",
        ),
    ]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(str(svg))


def row_group(root: ET.Element, row_id: str) -> ET.Element:
    for group in root.iter(f"{SVG}g"):
        if group.get("data-id") == row_id:
            return group
    raise AssertionError(f"no row {row_id!r}")


def texts(element: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in element.iter(f"{SVG}text")]


def planned_bar(root: ET.Element, row_id: str) -> tuple[float, float]:
    rect = next(
        r
        for r in row_group(root, row_id).iter(f"{SVG}rect")
        if "planned" in r.get("class", "").split()
    )
    return float(rect.get("x")), float(rect.get("x")) + float(rect.get("width"))


def test_svg_is_well_formed_and_shows_nodes_with_their_people(ctx):
    svg = render_gantt_svg(sample_rows(), today=TODAY, title="东城臻雅苑 挂图作战")

    root = parse(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox").startswith("0 0 ") and root.get("width") == "100%"
    shown = texts(root)
    for heading in ("节点", "责任单位", "责任人", "包挂领导"):
        assert heading in shown
    for name in ("入户调查登记", "房屋评估", "签约", "征收决定公告", "安置房交付"):
        assert name in texts(row_group(root, name))
    assert {"城投公司", "王五", "王副区长"} <= set(texts(row_group(root, "安置房交付")))
    assert "东城臻雅苑 挂图作战" in shown
    assert {"计划（倒排期限）", "实际", "预测", "里程碑", "关键路径", "暂定"} <= set(shown)


def test_today_line_stands_on_todays_date(ctx):
    root = parse(render_gantt_svg(sample_rows(), today=TODAY, title="计划"))

    line = next(e for e in root.iter(f"{SVG}line") if e.get("class") == "today-line")
    x = float(line.get("x1"))
    assert x == float(line.get("x2"))
    # 房屋评估 is planned for exactly today: the line crosses its bar.
    start, end = planned_bar(root, "房屋评估")
    assert start < x < end
    # Before the bar of the node planned for next week, after the one finished last week.
    assert planned_bar(root, "入户调查登记")[1] < x < planned_bar(root, "签约")[0]
    assert "今天" in texts(root)

    moved = parse(render_gantt_svg(sample_rows(), today=date(2026, 3, 23), title="计划"))
    moved_line = next(e for e in moved.iter(f"{SVG}line") if e.get("class") == "today-line")
    start, end = planned_bar(moved, "签约")  # starts on 2026-03-23
    assert start < float(moved_line.get("x1")) < start + (end - start) / 10


def test_milestone_is_drawn_as_a_diamond(ctx):
    root = parse(render_gantt_svg(sample_rows(), today=TODAY, title="计划"))

    milestone = row_group(root, "征收决定公告")
    diamonds = [p for p in milestone.iter(f"{SVG}polygon") if "milestone" in p.get("class", "")]
    assert len(diamonds) == 1
    assert len(diamonds[0].get("points").split()) == 4
    assert not [r for r in milestone.iter(f"{SVG}rect") if "planned" in r.get("class", "")]
    assert not list(row_group(root, "签约").iter(f"{SVG}polygon"))


def test_critical_path_rows_are_highlighted(ctx):
    root = parse(render_gantt_svg(sample_rows(), today=TODAY, title="计划"))

    for row_id, critical in (("入户调查登记", True), ("签约", True), ("房屋评估", False)):
        group = row_group(root, row_id)
        assert ("critical" in group.get("class").split()) is critical
        bar = next(r for r in group.iter(f"{SVG}rect") if "planned" in r.get("class", ""))
        assert (bar.get("stroke") == "#b3261e") is critical


def test_late_rows_show_their_slip_in_working_days(ctx):
    rows = [*sample_rows(), node("腾空交房", date(2026, 3, 2), date(2026, 3, 6), late=True)]
    root = parse(render_gantt_svg(rows, today=TODAY, title="计划"))

    late = row_group(root, "签约")
    assert "late" in late.get("class").split()
    assert "+5 个工作日" in texts(late)
    name = next(t for t in late.iter(f"{SVG}text") if t.text == "签约")
    assert name.get("fill") == "#b3261e"
    # Overdue without a computed slip still says so.
    assert "已逾期" in texts(row_group(root, "腾空交房"))
    on_time = row_group(root, "房屋评估")
    assert "late" not in on_time.get("class").split()
    assert not [t for t in texts(on_time) if "工作日" in t or "逾期" in t]


def test_provisional_dates_are_tagged(ctx):
    root = parse(render_gantt_svg(sample_rows(), today=TODAY, title="计划"))

    provisional = row_group(root, "安置房交付")
    assert "暂定" in texts(provisional)
    dashed = [e for e in provisional.iter() if e.get("stroke-dasharray")]
    assert dashed, "the provisional end of the bar is dashed"
    assert "暂定" not in texts(row_group(root, "签约"))


def provisional_forecast_rows() -> list[GanttRow]:
    """A deadline inside 2026 whose forecast runs into 2027, next to one forecast in 2026."""
    return [
        node(
            "主体封顶",
            date(2026, 10, 12),
            date(2026, 12, 31),
            forecast_start=date(2026, 11, 2),
            forecast_finish=date(2027, 1, 22),
            forecast_provisional=True,
            late=True,
            slip=15,
        ),
        node(
            "竣工验收",
            date(2026, 4, 1),
            date(2026, 6, 30),
            forecast_start=date(2026, 4, 1),
            forecast_finish=date(2026, 6, 30),
        ),
        node(
            "开工",
            date(2026, 4, 1),
            date(2026, 4, 1),
            milestone=True,
            forecast_start=date(2027, 1, 4),
            forecast_finish=date(2027, 1, 4),
            forecast_provisional=True,
        ),
    ]


def test_a_provisional_forecast_is_tagged_and_its_end_dashed(ctx):
    root = parse(render_gantt_svg(provisional_forecast_rows(), today=TODAY, title="计划"))

    for name in ("主体封顶", "开工"):
        row = row_group(root, name)
        assert "暂定" in texts(row), name
        ends = [e for e in row.iter() if e.get("class") == "forecast-provisional-end"]
        assert ends and all(e.get("stroke-dasharray") for e in ends), name
        assert not [e for e in row.iter() if e.get("class") == "provisional-end"]  # deadline
    steady = row_group(root, "竣工验收")
    assert "暂定" not in texts(steady)
    assert not [e for e in steady.iter() if e.get("stroke-dasharray")]


def test_the_printed_chart_marks_a_provisional_forecast(ctx):
    data = render_gantt_pdf(
        provisional_forecast_rows()[:2], today=TODAY, title="预测", made_at=datetime.now(UTC)
    )
    text = pdf_text(data)
    assert "主体封顶东城区征收办李四王副区长暂定+15" in text  # the tag after its row
    assert text.count("暂定") == 2  # that and the legend
    data = render_gantt_pdf(
        provisional_forecast_rows()[1:2], today=TODAY, title="预测", made_at=datetime.now(UTC)
    )
    text = pdf_text(data)
    assert "竣工验收" in text and text.count("暂定") == 1  # the legend only


def test_time_scale_shows_chinese_months_and_weeks(ctx):
    rows = [node("签约", date(2026, 3, 2), date(2026, 5, 29))]
    root = parse(render_gantt_svg(rows, today=TODAY, title="计划"))

    months = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "month-label"]
    assert months == ["2026年3月", "2026年4月", "2026年5月"]
    weeks = [t for t in root.iter(f"{SVG}text") if t.get("class") == "week-label"]
    assert "2026-W12" in {t.get("data-iso-week") for t in weeks}  # the week of 16 March
    assert [t.text for t in weeks][:3] == ["2", "9", "16"]  # Mondays


def test_long_plans_drop_week_labels_but_keep_months_and_years(ctx):
    rows = [node("安置房建设", date(2026, 3, 2), date(2028, 6, 30))]
    root = parse(render_gantt_svg(rows, today=TODAY, title="计划"))

    labels = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "month-label"]
    assert not [t for t in root.iter(f"{SVG}text") if t.get("class") == "week-label"]
    assert [t for t in root.iter(f"{SVG}line") if t.get("class") == "week-tick"]
    assert any("2027" in label for label in labels)
    assert any("月" in label for label in labels)

    narrow = parse(render_gantt_svg(rows, today=TODAY, title="计划", width_px=1000))
    narrow_labels = [t.text for t in narrow.iter(f"{SVG}text") if t.get("class") == "month-label"]
    assert {"2026年", "2027年", "2028年"} <= set(narrow_labels)


def test_text_is_escaped(ctx):
    rows = [node("<script>&", TODAY, TODAY + timedelta(days=3), responsible_unit='"单位"\x00')]
    svg = str(render_gantt_svg(rows, today=TODAY, title="a < b & c"))

    assert "<script>" not in svg
    assert "&lt;script&gt;&amp;" in svg
    root = parse(svg)
    assert "<script>&" in texts(root)
    assert '"单位"' in texts(root)
    assert "a < b & c" in texts(root)


def test_two_thousand_rows_render_in_well_under_a_second(ctx):
    rows = [
        node(
            f"节点{n}",
            date(2026, 1, 5) + timedelta(days=n % 600),
            date(2026, 1, 5) + timedelta(days=n % 600 + 20),
            forecast_start=date(2026, 1, 5) + timedelta(days=n % 600 + 2),
            forecast_finish=date(2026, 1, 5) + timedelta(days=n % 600 + 25),
            actual_start=date(2026, 1, 5) + timedelta(days=n % 600) if n % 2 else None,
            critical=n % 3 == 0,
            late=n % 4 == 0,
            slip=4 if n % 4 == 0 else None,
            provisional=n % 5 == 0,
            milestone=n % 9 == 0,
        )
        for n in range(2000)
    ]
    render_gantt_svg(rows[:10], today=TODAY, title="预热")

    started = time.perf_counter()
    svg = render_gantt_svg(rows, today=TODAY, title="全部节点")
    elapsed = time.perf_counter() - started

    assert elapsed < 1.0
    assert len(parse(svg).findall(f".//{SVG}g[@data-id]")) == 2000


def test_printed_chart_is_a3_landscape_with_embedded_chinese_font(ctx):
    data = render_gantt_pdf(
        sample_rows(),
        today=TODAY,
        title="东城臻雅苑挂图作战",
        made_at=datetime(2026, 3, 16, 1, 0, tzinfo=UTC),
    )

    page = pypdf.PdfReader(io.BytesIO(data)).pages[0].mediabox
    assert float(page.width) == pytest.approx(1190.55, abs=0.5)
    assert float(page.height) == pytest.approx(841.89, abs=0.5)
    fonts = pdf_fonts(data)
    assert any("CJK" in f.name and f.embedded and f.subset for f in fonts), fonts
    assert not [f for f in fonts if "Type 3" in f.type], fonts
    text = pdf_text(data)
    for name in ("入户调查登记", "签约", "征收决定公告", "安置房交付", "东城区征收办"):
        assert name in text
    assert "第1页共1页" in text
    assert "东城臻雅苑挂图作战" in text and "制表时间：2026-03-1609:00" in text
    assert "2026年3月" in text and "今天" in text and "+5个工作日" in text


def test_many_rows_print_on_several_pages_each_with_headings(ctx):
    rows = [
        node(
            f"节点{n:02d}",
            date(2026, 3, 2) + timedelta(days=n),
            date(2026, 3, 20) + timedelta(days=n),
        )
        for n in range(45)
    ]
    data = render_gantt_pdf(rows, today=TODAY, title="分页", made_at=datetime.now(UTC))

    assert pdf_page_count(data) == 2
    first, second = pdf_text(data, page=1), pdf_text(data, page=2)
    assert "节点00" in first and "节点39" in first and "节点40" not in first
    assert "节点40" in second and "节点44" in second
    for page_text in (first, second):
        assert "责任单位" in page_text and "2026年3月" in page_text
    assert "第2页共2页" in second
