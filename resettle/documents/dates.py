"""Dates as official documents print them."""

from __future__ import annotations

from datetime import date, datetime


def chinese_date(value: date | None) -> str:
    """2026年11月3日, as official documents write dates."""
    if value is None:
        return ""
    return f"{value.year}年{value.month}月{value.day}日"


def chinese_datetime(value: datetime) -> str:
    """2026年11月3日9时05分."""
    return f"{chinese_date(value.date())}{value.hour}时{value.minute:02d}分"
