"""Calendar months: adding months to a date and counting months between two dates."""

from __future__ import annotations

import calendar
from datetime import date


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it is shorter)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def months_between(start: date, end: date, started_counts: bool = True) -> int:
    """Months from start to end (0 when end <= start): a started month counts as a whole one,
    or, with started_counts=False, only completed months count."""
    if end <= start:
        return 0
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if add_months(start, months) > end:
        months -= 1
    if started_counts and add_months(start, months) < end:
        months += 1
    return months


def month_index(day: date) -> int:
    """A month as one integer (year * 12 + month - 1), for bucketing by month."""
    return day.year * 12 + day.month - 1


def month_label(index: int) -> str:
    """YYYY-MM of a month index."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"
