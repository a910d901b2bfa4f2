"""The wall chart (挂图作战): a plan's nodes as a server-side SVG Gantt chart, and its A3 PDF.

Pure functions of plain rows (no database, no JavaScript): the same SVG serves the screen
(it scales to its container through its viewBox) and the print.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from babel.dates import format_skeleton
from flask_babel import get_locale
from markupsafe import Markup, escape

from resettle.translate import gettext as _

#: The app's font stack (static/css/app.css), with the Linux CJK fonts the PDFs use.
SCREEN_FONT_FAMILY = (
    "'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', "
    "'WenQuanYi Micro Hei', sans-serif"
)
#: Rows on one A3 landscape page of the printed chart.
PRINT_ROWS_PER_PAGE = 40
#: Above this span (about 18 months) the scale shows months and years, no week labels.
WEEK_LABELS_MAX_DAYS = 548
#: CSS px across the content box of an A3 landscape page with the print margins (396 mm).
PRINT_WIDTH_PX = 1496

INK = "#1f2933"
MUTED = "#5f6b7a"
LINE = "#d9dee5"
PLANNED = "#8fb3de"
ACTUAL = "#1b7f3b"
FORECAST = "#5f6b7a"
BAD = "#b3261e"
LATE_BG = "#fde8e6"
WARN = "#a15c00"
TODAY = "#0b57d0"


@dataclass(frozen=True)
class GanttRow:
    """One plan node as the chart shows it; dates are inclusive working days."""

    id: str
    name: str
    responsible_unit: str | None
    responsible_person: str | None
    leader: str | None
    planned_start: date  # deadlines from the backward pass
    planned_finish: date
    actual_start: date | None = None
    actual_finish: date | None = None
    forecast_start: date | None = None
    forecast_finish: date | None = None
    milestone: bool = False
    critical: bool = False
    late: bool = False  # positive slip or overdue
    provisional: bool = False  # the deadlines
    slip: int | None = None  # working days, positive = late
    forecast_provisional: bool = False  # the forecast


@dataclass(frozen=True)
class _Metrics:
    row_height: int
    font_size: int
    title_height: int
    legend_height: int = 26
    today_band: int = 16
    month_row: int = 20
    week_row: int = 18
    right_pad: int = 150


SCREEN = _Metrics(row_height=24, font_size=12, title_height=30)
PRINT = _Metrics(row_height=20, font_size=11, title_height=0)

# The left columns: (attribute of GanttRow, width in px); headings from _column_labels().
_COLUMNS = (
    ("name", 230),
    ("responsible_unit", 150),
    ("responsible_person", 80),
    ("leader", 80),
)
_LABEL_WIDTH = sum(width for _attribute, width in _COLUMNS)


def _column_labels() -> dict[str, str]:
    return {
        "name": _("Node"),
        "responsible_unit": _("Responsible unit"),
        "responsible_person": _("Responsible person"),
        "leader": _("Leader"),
    }


# --- text helpers ----------------------------------------------------------------------------

_XML_FORBIDDEN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(value: object) -> Markup:
    """Escaped text, without the characters XML 1.0 forbids (most control characters)."""
    return escape(_XML_FORBIDDEN.sub("", "" if value is None else str(value)))


def _char_em(char: str) -> float:
    if unicodedata.east_asian_width(char) in ("W", "F"):
        return 1.0
    return 0.62 if char.isupper() or char.isdigit() else 0.55


def _text_px(text: str, font_size: float) -> float:
    """Rough rendered width: CJK characters are 1 em wide, Latin ones about half."""
    return sum(_char_em(char) for char in text) * font_size


def _fit(text: str, max_px: float, font_size: float) -> str:
    """`text`, cut with an ellipsis so it fits in `max_px`."""
    if _text_px(text, font_size) <= max_px:
        return text
    budget = max_px - font_size  # room for the ellipsis
    width = 0.0
    for position, char in enumerate(text):
        width += _char_em(char) * font_size
        if width > budget:
            return text[:position] + "…"
    return text


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


# --- the time scale --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scale:
    start: date  # first day shown
    end: date  # last day shown
    x0: float  # x of the start of `start`
    day_px: float

    def x(self, day: date) -> float:
        return self.x0 + (day - self.start).days * self.day_px

    def x_end(self, day: date) -> float:
        """x of the end of `day` (finishes are inclusive)."""
        return self.x(day) + self.day_px

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def _dates_of(row: GanttRow) -> list[date]:
    return [
        day
        for day in (
            row.planned_start,
            row.planned_finish,
            row.actual_start,
            row.actual_finish,
            row.forecast_start,
            row.forecast_finish,
        )
        if day is not None
    ]


def _scale_for(rows: Sequence[GanttRow], today: date, width_px: int | None, m: _Metrics) -> _Scale:
    first = min((min(_dates_of(row)) for row in rows), default=today)
    last = max((max(_dates_of(row)) for row in rows), default=today)
    first, last = min(first, today), max(last, today)
    start = first.replace(day=1)
    end = last.replace(day=calendar.monthrange(last.year, last.month)[1])
    days = (end - start).days + 1
    if width_px is None:
        chart_px = min(max(days * 4.0, 720.0), 2400.0)
    else:
        chart_px = max(float(width_px) - _LABEL_WIDTH - m.right_pad, 120.0)
    return _Scale(start=start, end=end, x0=float(_LABEL_WIDTH), day_px=chart_px / days)


def _months(scale: _Scale) -> list[tuple[date, date]]:
    """(first, last) day of each month shown."""
    months = []
    day = scale.start
    while day <= scale.end:
        last = day.replace(day=calendar.monthrange(day.year, day.month)[1])
        months.append((day, min(last, scale.end)))
        day = last + timedelta(days=1)
    return months


def _scale_svg(scale: _Scale, m: _Metrics, top: float, bottom: float, total_px: float) -> list[str]:
    """Month and week rows of the time scale, with grid lines down to `bottom`."""
    out: list[str] = []
    month_top = top
    week_top = top + m.month_row
    rows_top = week_top + m.week_row
    small = m.font_size - 1
    out.append('<g class="time-scale">')
    out.append(
        f'<rect x="{_num(scale.x0)}" y="{_num(month_top)}" '
        f'width="{_num(scale.days * scale.day_px)}" height="{m.month_row + m.week_row}" '
        f'fill="#f5f7fa"/>'
    )
    months = _months(scale)
    locale = get_locale() or "zh_Hans_CN"
    month_labels = [format_skeleton("yMMM", first, locale=locale) for first, _last in months]
    widths = [((last - first).days + 1) * scale.day_px for first, last in months]
    if _all_fit(month_labels, widths, small):
        for (first, last), label in zip(months, month_labels, strict=True):
            out.append(
                _month_cell(scale.x(first), scale.x_end(last), month_top, m.month_row, label, small)
            )
        week_labels = scale.days <= WEEK_LABELS_MAX_DAYS
        _week_ticks(out, scale, week_top, m.week_row, small, week_labels)
    else:
        # Long spans: years on the top row, months on the second.
        for year in range(scale.start.year, scale.end.year + 1):
            first = max(date(year, 1, 1), scale.start)
            last = min(date(year, 12, 31), scale.end)
            label = format_skeleton("y", first, locale=locale)
            out.append(
                _month_cell(scale.x(first), scale.x_end(last), month_top, m.month_row, label, small)
            )
        # All months labelled the same way, or none: "3月", else "3", else only the ticks.
        short_labels = [format_skeleton("MMM", first, locale=locale) for first, _last in months]
        if not _all_fit(short_labels, widths, small):
            short_labels = [str(first.month) for first, _last in months]
            if not _all_fit(short_labels, widths, small):
                short_labels = [""] * len(months)
        for (first, last), label in zip(months, short_labels, strict=True):
            out.append(
                _month_cell(scale.x(first), scale.x_end(last), week_top, m.week_row, label, small)
            )
    # Month boundaries across the rows.
    for first, _last in months[1:]:
        x = _num(scale.x(first))
        out.append(
            f'<line class="month-line" x1="{x}" y1="{_num(rows_top)}" x2="{x}" '
            f'y2="{_num(bottom)}" stroke="{LINE}" stroke-width="1"/>'
        )
    out.append(
        f'<line x1="0" y1="{_num(rows_top)}" x2="{_num(total_px)}" y2="{_num(rows_top)}" '
        f'stroke="{MUTED}" stroke-width="1"/>'
    )
    out.append("</g>")
    return out


def _all_fit(labels: Sequence[str], widths: Sequence[float], size: int) -> bool:
    """Whether every label fits in its cell; a chart labels all months alike or not at all."""
    return all(
        _text_px(label, size) + 6 <= width for label, width in zip(labels, widths, strict=True)
    )


def _month_cell(x1: float, x2: float, top: float, height: float, label: str, size: int) -> str:
    parts = [
        f'<line x1="{_num(x1)}" y1="{_num(top)}" x2="{_num(x1)}" y2="{_num(top + height)}" '
        f'stroke="{MUTED}" stroke-width="1"/>'
    ]
    if label and _text_px(label, size) + 2 <= x2 - x1:
        parts.append(
            f'<text class="month-label" x="{_num((x1 + x2) / 2)}" '
            f'y="{_num(top + height / 2 + size * 0.36)}" font-size="{size}" '
            f'text-anchor="middle" fill="{INK}">{_xml_text(label)}</text>'
        )
    return "".join(parts)


def _week_ticks(
    out: list[str], scale: _Scale, top: float, height: float, size: int, labels: bool
) -> None:
    """A tick at each ISO week's Monday; its day of the month as label when there is room."""
    monday = scale.start + timedelta(days=(7 - scale.start.weekday()) % 7)
    week_px = 7 * scale.day_px
    if week_px < 3:
        return
    while monday <= scale.end:
        x = scale.x(monday)
        out.append(
            f'<line class="week-tick" x1="{_num(x)}" y1="{_num(top + height * 0.55)}" '
            f'x2="{_num(x)}" y2="{_num(top + height)}" stroke="{MUTED}" stroke-width="0.6"/>'
        )
        fits = week_px >= _text_px(str(monday.day), size - 1) + 4
        if labels and fits and scale.x(monday) + week_px <= scale.x_end(scale.end) + 0.01:
            iso_year, iso_week, _day = monday.isocalendar()
            out.append(
                f'<text class="week-label" x="{_num(x + 2)}" y="{_num(top + height * 0.5)}" '
                f'font-size="{size - 1}" fill="{MUTED}" data-iso-week="{iso_year}-W{iso_week:02d}"'
                f">{monday.day}</text>"
            )
        monday += timedelta(days=7)


# --- rows ------------------------------------------------------------------------------------


def _diamond(cx: float, cy: float, r: float, fill: str, stroke: str, cls: str) -> str:
    points = " ".join(
        f"{_num(px)},{_num(py)}"
        for px, py in ((cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy))
    )
    return (
        f'<polygon class="milestone {cls}" points="{points}" fill="{fill}" stroke="{stroke}" '
        f'stroke-width="1.2"/>'
    )


def _bar(
    scale: _Scale, first: date, last: date, top: float, height: float, cls: str, attrs: str
) -> tuple[str, float]:
    first, last = min(first, last), max(first, last)
    x1, x2 = scale.x(first), scale.x_end(last)
    return (
        f'<rect class="{cls}" x="{_num(x1)}" y="{_num(top)}" width="{_num(x2 - x1)}" '
        f'height="{_num(height)}" {attrs}/>',
        x2,
    )


def _row_svg(
    row: GanttRow,
    top: float,
    index: int,
    scale: _Scale,
    today: date,
    m: _Metrics,
    total_px: float,
    words: dict[str, str],
) -> list[str]:
    h = m.row_height
    classes = ["row"]
    if row.critical:
        classes.append("critical")
    if row.late:
        classes.append("late")
    if row.provisional:
        classes.append("provisional")
    if row.forecast_provisional:
        classes.append("forecast-provisional")
    if row.milestone:
        classes.append("milestone-row")
    out = [f'<g class="{" ".join(classes)}" data-id="{_xml_text(row.id)}">']
    tooltip = " · ".join(
        str(part)
        for part in (row.name, row.responsible_unit, row.responsible_person, row.leader)
        if part
    )
    out.append(f"<title>{_xml_text(tooltip)}</title>")
    if row.late:
        background = LATE_BG
    elif index % 2:
        background = "#f7f9fb"
    else:
        background = ""
    if background:
        out.append(
            f'<rect class="row-bg" x="0" y="{_num(top)}" width="{_num(total_px)}" height="{h}" '
            f'fill="{background}"/>'
        )
    if row.critical:
        out.append(
            f'<rect class="critical-mark" x="0" y="{_num(top + 1)}" width="4" height="{h - 2}" '
            f'fill="{BAD}"/>'
        )
    # Left columns.
    baseline = top + h / 2 + m.font_size * 0.36
    x = 0.0
    for attribute, width in _COLUMNS:
        value = getattr(row, attribute) or ""
        text = _fit(str(value), width - 12, m.font_size)
        late_name = attribute == "name" and row.late
        extra = f' font-weight="bold" fill="{BAD}"' if late_name else f' fill="{INK}"'
        if text:
            out.append(
                f'<text class="col-{attribute.replace("_", "-")}" x="{_num(x + 8)}" '
                f'y="{_num(baseline)}" font-size="{m.font_size}"{extra}>{_xml_text(text)}</text>'
            )
        x += width
    # Bars: planned on the upper lane, actual and forecast on the lower lane.
    lane = h * 0.32
    planned_top = top + h * 0.14
    lower_top = top + h * 0.54
    ends: list[float] = []
    if row.milestone:
        day = row.planned_finish
        cx = scale.x(day) + scale.day_px / 2
        out.append(
            _diamond(
                cx,
                planned_top + lane / 2,
                lane / 2 + 2,
                INK,
                BAD if row.critical else INK,
                "planned" + (" critical" if row.critical else ""),
            )
        )
        ends.append(cx + lane / 2 + 2)
        if row.provisional:
            out.append(
                f'<line class="provisional-end" x1="{_num(cx)}" y1="{_num(top + 1)}" '
                f'x2="{_num(cx)}" y2="{_num(top + h - 1)}" stroke="{WARN}" stroke-width="1.2" '
                f'stroke-dasharray="3 2"/>'
            )
    else:
        stroke = f'stroke="{BAD}" stroke-width="2"' if row.critical else 'stroke="none"'
        bar, x_end = _bar(
            scale,
            row.planned_start,
            row.planned_finish,
            planned_top,
            lane,
            "planned" + (" critical" if row.critical else ""),
            f'fill="{PLANNED}" {stroke}',
        )
        out.append(bar)
        ends.append(x_end)
        if row.provisional:
            x1 = max(scale.x(min(row.planned_start, row.planned_finish)), x_end - 4 * scale.day_px)
            out.append(
                f'<rect class="provisional-end" x="{_num(x1)}" y="{_num(planned_top - 1.5)}" '
                f'width="{_num(x_end - x1)}" height="{_num(lane + 3)}" fill="none" '
                f'stroke="{WARN}" stroke-width="1.2" stroke-dasharray="3 2"/>'
            )
    late_colour = BAD if row.late else FORECAST
    if row.actual_finish is None and row.forecast_finish is not None:
        forecast_first = row.forecast_start or row.forecast_finish
        if row.milestone:
            cx = scale.x(row.forecast_finish) + scale.day_px / 2
            out.append(
                _diamond(cx, lower_top + lane / 2, lane / 2 + 2, "#fff", late_colour, "forecast")
            )
            ends.append(cx + lane / 2 + 2)
            if row.forecast_provisional:
                out.append(
                    f'<line class="forecast-provisional-end" x1="{_num(cx)}" '
                    f'y1="{_num(lower_top - 2)}" x2="{_num(cx)}" y2="{_num(top + h - 1)}" '
                    f'stroke="{WARN}" stroke-width="1.2" stroke-dasharray="3 2"/>'
                )
        else:
            bar, x_end = _bar(
                scale,
                forecast_first,
                row.forecast_finish,
                lower_top,
                lane,
                "forecast",
                f'fill="url(#{"hatch-late" if row.late else "hatch"})" stroke="{late_colour}" '
                f'stroke-width="1"',
            )
            out.append(bar)
            ends.append(x_end)
            if row.forecast_provisional:
                x1 = max(
                    scale.x(min(forecast_first, row.forecast_finish)), x_end - 4 * scale.day_px
                )
                out.append(
                    f'<rect class="forecast-provisional-end" x="{_num(x1)}" '
                    f'y="{_num(lower_top - 1.5)}" width="{_num(x_end - x1)}" '
                    f'height="{_num(lane + 3)}" fill="none" stroke="{WARN}" stroke-width="1.2" '
                    f'stroke-dasharray="3 2"/>'
                )
    if row.actual_start is not None or row.actual_finish is not None:
        actual_first = row.actual_start or row.actual_finish
        actual_last = row.actual_finish or max(today, actual_first)
        if row.milestone and row.actual_finish is not None:
            cx = scale.x(row.actual_finish) + scale.day_px / 2
            out.append(_diamond(cx, lower_top + lane / 2, lane / 2 + 2, ACTUAL, ACTUAL, "actual"))
            ends.append(cx + lane / 2 + 2)
        elif not row.milestone:
            bar, x_end = _bar(
                scale,
                actual_first,
                actual_last,
                lower_top,
                lane,
                "actual" + ("" if row.actual_finish else " in-progress"),
                f'fill="{ACTUAL}"',
            )
            out.append(bar)
            ends.append(x_end)
    # Tags after the bars: provisional, then the slip.
    x_tag = max(ends) + 4
    small = m.font_size - 1
    if row.provisional or (row.forecast_provisional and row.actual_finish is None):
        label = words["provisional"]
        out.append(
            f'<text class="provisional-tag" x="{_num(x_tag)}" y="{_num(baseline)}" '
            f'font-size="{small}" fill="{WARN}">{_xml_text(label)}</text>'
        )
        x_tag += _text_px(label, small) + 6
    if row.late or (row.slip is not None and row.slip > 0):
        if row.slip is not None and row.slip > 0:
            label = _("+%(days)d working days", days=row.slip)
        else:
            label = words["overdue"]
        out.append(
            f'<text class="slip" x="{_num(x_tag)}" y="{_num(baseline)}" font-size="{small}" '
            f'font-weight="bold" fill="{BAD}">{_xml_text(label)}</text>'
        )
    out.append("</g>")
    return out


# --- legend and the whole chart --------------------------------------------------------------


def _legend_svg(top: float, m: _Metrics) -> list[str]:
    size = m.font_size - 1
    y = top + m.legend_height / 2
    text_y = _num(y + size * 0.36)
    sample_top = _num(y - 5)
    items: list[tuple[str, str]] = [
        (
            f'<rect x="{{x}}" y="{sample_top}" width="22" height="10" fill="{PLANNED}"/>',
            _("Planned (deadline)"),
        ),
        (f'<rect x="{{x}}" y="{sample_top}" width="22" height="10" fill="{ACTUAL}"/>', _("Actual")),
        (
            f'<rect x="{{x}}" y="{sample_top}" width="22" height="10" fill="url(#hatch)" '
            f'stroke="{FORECAST}" stroke-width="1"/>',
            _("Forecast"),
        ),
        ("{diamond}", _("Milestone")),
        (
            f'<rect x="{{x}}" y="{sample_top}" width="22" height="10" fill="{PLANNED}" '
            f'stroke="{BAD}" stroke-width="2"/>',
            _("Critical path"),
        ),
        (
            f'<rect x="{{x}}" y="{_num(y - 7)}" width="22" height="14" fill="{LATE_BG}" '
            f'stroke="{BAD}" stroke-width="0.5"/>',
            _("Late (slip in working days)"),
        ),
        (
            f'<rect x="{{x}}" y="{sample_top}" width="22" height="10" fill="none" '
            f'stroke="{WARN}" stroke-width="1.2" stroke-dasharray="3 2"/>',
            _("Provisional"),
        ),
        (
            f'<line x1="{{x11}}" y1="{_num(y - 8)}" x2="{{x11}}" y2="{_num(y + 8)}" '
            f'stroke="{TODAY}" stroke-width="2"/>',
            _("Today"),
        ),
    ]
    out = ['<g class="legend">']
    x = 8.0
    for sample, label in items:
        if sample == "{diamond}":
            out.append(_diamond(x + 11, y, 6, INK, INK, "legend-sample"))
        else:
            out.append(sample.replace("{x11}", _num(x + 11)).replace("{x}", _num(x)))
        out.append(
            f'<text x="{_num(x + 28)}" y="{text_y}" font-size="{size}" fill="{INK}">'
            f"{_xml_text(label)}</text>"
        )
        x += 28 + _text_px(label, size) + 18
    out.append("</g>")
    return out


def _defs() -> str:
    def hatch(name: str, colour: str) -> str:
        return (
            f'<pattern id="{name}" patternUnits="userSpaceOnUse" width="6" height="6" '
            f'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/>'
            f'<line x1="0" y1="0" x2="0" y2="6" stroke="{colour}" stroke-width="2.5"/></pattern>'
        )

    return f"<defs>{hatch('hatch', FORECAST)}{hatch('hatch-late', BAD)}</defs>"


def _chart_svg(
    rows: Sequence[GanttRow],
    *,
    today: date,
    title: str,
    scale: _Scale,
    m: _Metrics,
    font_family: str,
    heading: bool,
) -> Markup:
    total_px = scale.x_end(scale.end) + m.right_pad
    legend_top = m.title_height if heading else 0
    today_top = legend_top + m.legend_height
    scale_top = today_top + m.today_band
    rows_top = scale_top + m.month_row + m.week_row
    height = rows_top + max(len(rows), 1) * m.row_height + 2
    words = {"provisional": _("Provisional"), "overdue": _("Overdue")}
    labels = _column_labels()

    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="gantt" role="img" '
        f'viewBox="0 0 {_num(total_px)} {_num(height)}" width="100%" '
        f'preserveAspectRatio="xMinYMin meet" font-family="{_xml_text(font_family)}" '
        f'data-start="{scale.start.isoformat()}" data-day-px="{_num(scale.day_px)}">',
        f"<title>{_xml_text(title)}</title>",
        _defs(),
        f'<rect x="0" y="0" width="{_num(total_px)}" height="{_num(height)}" fill="#fff"/>',
    ]
    if heading:
        out.append(
            f'<text class="chart-title" x="8" y="{_num(m.title_height * 0.7)}" '
            f'font-size="{m.font_size + 4}" font-weight="bold" fill="{INK}">'
            f"{_xml_text(title)}</text>"
        )
    out.extend(_legend_svg(legend_top, m))
    out.extend(_scale_svg(scale, m, scale_top, height, total_px))
    # Column headings, in the scale's rows.
    x = 0.0
    heading_y = scale_top + (m.month_row + m.week_row) / 2 + m.font_size * 0.36
    out.append('<g class="column-headings">')
    for attribute, width in _COLUMNS:
        out.append(
            f'<text x="{_num(x + 8)}" y="{_num(heading_y)}" font-size="{m.font_size}" '
            f'font-weight="bold" fill="{INK}">{_xml_text(labels[attribute])}</text>'
        )
        x += width
        out.append(
            f'<line x1="{_num(x)}" y1="{_num(scale_top)}" x2="{_num(x)}" y2="{_num(height)}" '
            f'stroke="{LINE}" stroke-width="1"/>'
        )
    out.append("</g>")
    # Rows.
    out.append('<g class="rows">')
    for index, row in enumerate(rows):
        out.extend(
            _row_svg(row, rows_top + index * m.row_height, index, scale, today, m, total_px, words)
        )
    out.append("</g>")
    # Today, on top of everything.
    x_today = _num(scale.x(today) + scale.day_px / 2)
    label = _("Today")
    out.append(
        f'<g class="today" data-date="{today.isoformat()}">'
        f'<line class="today-line" x1="{x_today}" y1="{_num(today_top + m.today_band - 2)}" '
        f'x2="{x_today}" y2="{_num(height)}" stroke="{TODAY}" stroke-width="1.5"/>'
        f'<text class="today-label" x="{x_today}" y="{_num(today_top + m.today_band - 4)}" '
        f'font-size="{m.font_size - 1}" text-anchor="middle" font-weight="bold" fill="{TODAY}">'
        f"{_xml_text(label)}</text></g>"
    )
    out.append("</svg>")
    return Markup("".join(out))


def render_gantt_svg(
    rows: Sequence[GanttRow], *, today: date, title: str, width_px: int | None = None
) -> Markup:
    """The wall chart as SVG markup: one row per node, the time scale, today and a legend.

    Needs an app context (labels are translated). `width_px` fixes the drawing's width (the
    viewBox still scales it to the container); by default it grows with the plan's span.
    """
    scale = _scale_for(rows, today, width_px, SCREEN)
    return _chart_svg(
        rows,
        today=today,
        title=title,
        scale=scale,
        m=SCREEN,
        font_family=SCREEN_FONT_FAMILY,
        heading=True,
    )


def render_gantt_pdf(
    rows: Sequence[GanttRow], *, today: date, title: str, made_at: datetime
) -> bytes:
    """The wall chart on A3 landscape pages (40 rows a page, each with scale and legend)."""
    from resettle.pdf import FALLBACK_FAMILIES, cjk_font, css_font_family, render_pdf

    family = css_font_family((cjk_font().family, *FALLBACK_FAMILIES))
    scale = _scale_for(rows, today, PRINT_WIDTH_PX, PRINT)
    chunks = [
        rows[start : start + PRINT_ROWS_PER_PAGE]
        for start in range(0, max(len(rows), 1), PRINT_ROWS_PER_PAGE)
    ]
    pages = [
        _chart_svg(
            chunk,
            today=today,
            title=title,
            scale=scale,
            m=PRINT,
            font_family=family,
            heading=False,
        )
        for chunk in chunks
    ]
    return render_pdf(
        "plans/gantt_print.html",
        title=title,
        made_at=made_at,
        pages=pages,
        today=today,
        node_count=len(rows),
    )
