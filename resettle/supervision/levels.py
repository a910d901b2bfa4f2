"""Supervision levels (督查督办) of an open item from its deadline: 提醒, 警示, 督办.

An item is open when it has a deadline and no actual date. With N = the project's reminder
window and M = its supervision threshold, both in working days (DOMAIN.md, "Supervision"):
- 提醒 reminder: not late, due within N working days (the deadline itself counts as due);
- 警示 warning: late by 1 to M working days;
- 督办 supervision: late by more than M working days.

Working days cannot be counted in SQL, so for the overdue list the same levels are also given
as deadline ranges for a fixed `today` (`limits_for`); an estate's plan that no project moves
into uses the defaults N = 5 and M = 10.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, timedelta

from resettle.calendar import WorkCalendar
from resettle.plans.deadlines import first_deadline_late_by_at_most
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


DEFAULT_REMIND_WORKDAYS = 5
DEFAULT_SUPERVISE_WORKDAYS = 10
LEVEL_SEVERITY = {Level.SUPERVISE: 0, Level.WARN: 1, Level.REMIND: 2}


@dataclass(frozen=True)
class Limits:
    """With `today` fixed, the supervision levels as deadline ranges (see `assess`):
    deadline < supervise_before: 督办; < late_before: 警示; <= remind_through: 提醒."""

    remind_through: date
    late_before: date
    supervise_before: date

    def level(self, deadline: date) -> Level | None:
        if deadline < self.supervise_before:
            return Level.SUPERVISE
        if deadline < self.late_before:
            return Level.WARN
        if deadline <= self.remind_through:
            return Level.REMIND
        return None


def limits_for(
    calendar: WorkCalendar, today: date, remind_workdays: int, supervise_workdays: int
) -> Limits:
    """The date boundaries of the levels for one N (remind) and M (supervise)."""
    return Limits(
        remind_through=first_deadline_late_by_at_most(calendar, today, -remind_workdays - 1)
        - timedelta(days=1),
        late_before=first_deadline_late_by_at_most(calendar, today, 0),
        supervise_before=first_deadline_late_by_at_most(calendar, today, supervise_workdays),
    )
