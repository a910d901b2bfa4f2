"""Supervision levels from deadlines, counted in working days of the China calendar."""

from datetime import date

import pytest

from resettle.calendar import china_calendar
from resettle.supervision.levels import Level, assess

CAL = china_calendar()


@pytest.mark.parametrize(
    "deadline, today, level, days_late",
    [
        (date(2025, 6, 10), date(2025, 6, 3), Level.REMIND, -5),  # due in exactly 5 working days
        (date(2025, 6, 11), date(2025, 6, 3), None, None),  # 6 working days ahead: nothing yet
        (date(2025, 6, 3), date(2025, 6, 3), Level.REMIND, 0),  # due today
        (date(2025, 6, 3), date(2025, 6, 4), Level.WARN, 1),
        (date(2025, 6, 3), date(2025, 6, 17), Level.WARN, 10),  # late by exactly M
        (date(2025, 6, 3), date(2025, 6, 18), Level.SUPERVISE, 11),
        # across National Day 2025 (10-01..10-08 off, 10-11 Saturday worked): 09-30 -> 10-09 is 1
        (date(2025, 9, 30), date(2025, 10, 9), Level.WARN, 1),
        # a deadline before Spring Festival 2025 is due within 5 working days across the holiday
        (date(2025, 2, 6), date(2025, 1, 27), Level.REMIND, -2),  # 02-05 and 02-06
    ],
)
def test_levels(deadline, today, level, days_late):
    result = assess(deadline, None, today, CAL, remind_workdays=5, supervise_workdays=10)
    if level is None:
        assert result is None
    else:
        assert result.level == level and result.days_late == days_late


def test_done_or_undated_items_are_not_supervised():
    assert assess(date(2025, 6, 3), date(2025, 6, 20), date(2025, 7, 1), CAL, 5, 10) is None
    assert assess(None, None, date(2025, 7, 1), CAL, 5, 10) is None
