"""Supervision levels (督查督办) of an open item from its deadline: 提醒, 警示, 督办.

An item is open when it has a deadline and no actual date. With N = the project's reminder
window and M = its supervision threshold, both in working days (DOMAIN.md, "Supervision"):
- 提醒 reminder: not late, due within N working days (the deadline itself counts as due);
- 警示 warning: late by 1 to M working days;
- 督办 supervision: late by more than M working days.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from resettle.calendar import WorkCalendar
from resettle.translate import lazy_gettext as _l


class Level(enum.StrEnum):
    REMIND = "remind"
    WARN = "warn"
    SUPERVISE = "supervise"


LEVEL_LABELS = {
    Level.REMIND: _l("Reminder"),
    Level.WARN: _l("Warning"),
    Level.SUPERVISE: _l("Supervision"),
}


@dataclass(frozen=True)
class Assessment:
    level: Level
    days_late: int  # working days past the deadline (0 or less when not late yet)


def assess(
    deadline: date | None,
    actual: date | None,
    today: date,
    calendar: WorkCalendar,
    remind_workdays: int,
    supervise_workdays: int,
) -> Assessment | None:
    """The supervision level of one item, or None when it is done or not due soon."""
    if deadline is None or actual is not None:
        return None
    days_late = calendar.workdays_between(deadline, today)
    if days_late > supervise_workdays:
        return Assessment(Level.SUPERVISE, days_late)
    if days_late > 0:
        return Assessment(Level.WARN, days_late)
    if -days_late <= remind_workdays:
        return Assessment(Level.REMIND, days_late)
    return None
