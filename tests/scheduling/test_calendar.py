"""Working-day calendar: pinned China holidays, provisional years, overrides, stepping."""

import time
from datetime import date, timedelta

import chinese_calendar
import pytest

from resettle.calendar import WorkCalendar, china_calendar

D = date


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return china_calendar()


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(n) for n in range((last - first).days + 1)]


# -- pinned facts of the package data ---------------------------------------------------------


def test_spring_festival_2025(cal):
    assert not any(cal.is_workday(d) for d in days(D(2025, 1, 28), D(2025, 2, 4)))
    assert cal.is_workday(D(2025, 1, 26))  # Sunday, 调休
    assert cal.is_workday(D(2025, 2, 8))  # Saturday, 调休
    assert cal.is_workday(D(2025, 1, 27)) and cal.is_workday(D(2025, 2, 5))
    assert not cal.is_workday(D(2025, 1, 25))  # ordinary Saturday
    assert not cal.is_workday(D(2025, 2, 9))  # ordinary Sunday


def test_national_day_2025(cal):
    assert not any(cal.is_workday(d) for d in days(D(2025, 10, 1), D(2025, 10, 8)))
    assert cal.is_workday(D(2025, 9, 28))  # Sunday, 调休
    assert cal.is_workday(D(2025, 10, 11))  # Saturday, 调休
    assert cal.is_workday(D(2025, 9, 30)) and cal.is_workday(D(2025, 10, 9))


def test_spring_festival_2026(cal):
    assert not any(cal.is_workday(d) for d in days(D(2026, 2, 15), D(2026, 2, 23)))
    assert cal.is_workday(D(2026, 2, 14))  # Saturday, 调休
    assert cal.is_workday(D(2026, 2, 28))  # Saturday, 调休
    assert cal.is_workday(D(2026, 2, 13)) and cal.is_workday(D(2026, 2, 24))


def test_national_day_and_mid_autumn_2026(cal):
    assert not any(cal.is_workday(d) for d in days(D(2026, 10, 1), D(2026, 10, 7)))
    assert not any(cal.is_workday(d) for d in days(D(2026, 9, 25), D(2026, 9, 27)))
    assert cal.is_workday(D(2026, 9, 20))  # Sunday, 调休
    assert cal.is_workday(D(2026, 10, 10))  # Saturday, 调休
    assert cal.is_workday(D(2026, 10, 8)) and cal.is_workday(D(2026, 9, 24))


def test_yearly_working_day_totals(cal):
    assert cal.count_workdays(D(2024, 1, 1), D(2024, 12, 31)) == 251
    assert cal.count_workdays(D(2025, 1, 1), D(2025, 12, 31)) == 248


def test_every_day_matches_the_package_where_it_has_data(cal):
    for d in days(D(2004, 1, 1), D(2026, 12, 31)):
        assert cal.is_workday(d) == chinese_calendar.is_workday(d), d


# -- provisional years and official years -------------------------------------------------------


def test_years_after_the_package_data_are_provisional_weekends_only(cal):
    assert not cal.is_provisional(D(2026, 12, 31))
    assert cal.is_provisional(D(2027, 1, 1))
    assert {2027, 2028, 2100} <= cal.provisional_years
    assert not {2004, 2025, 2026} & cal.provisional_years
    assert cal.is_workday(D(2027, 10, 1))  # a Friday: no holiday data yet
    assert cal.is_workday(D(2027, 1, 1))  # a Friday, New Year not known yet
    assert not cal.is_workday(D(2027, 1, 2))  # Saturday
    assert not cal.is_workday(D(2027, 1, 3))  # Sunday
    assert cal.count_workdays(D(2027, 1, 1), D(2027, 12, 31)) == 261
    assert cal.touches_provisional(D(2026, 12, 31), D(2027, 1, 1))
    assert cal.touches_provisional(D(2027, 1, 1), D(2026, 12, 31))
    assert not cal.touches_provisional(D(2025, 1, 1), D(2026, 12, 31))


def test_official_year_makes_a_year_official():
    cal = WorkCalendar(
        official_years={
            2027: (days(D(2027, 10, 1), D(2027, 10, 7)), [D(2027, 9, 26), D(2027, 10, 9)])
        }
    )
    assert not cal.is_provisional(D(2027, 6, 1))
    assert 2027 not in cal.provisional_years and 2028 in cal.provisional_years
    assert not cal.is_workday(D(2027, 10, 1))  # Friday, now a holiday
    assert not cal.is_workday(D(2027, 10, 4))  # Monday, holiday
    assert cal.is_workday(D(2027, 9, 26))  # Sunday, 调休
    assert cal.is_workday(D(2027, 10, 9))  # Saturday, 调休
    assert not cal.is_workday(D(2027, 10, 16))  # unlisted Saturday stays off
    assert cal.touches_provisional(D(2027, 1, 1), D(2028, 1, 3))
    assert not cal.touches_provisional(D(2026, 1, 1), D(2027, 12, 31))


def test_official_year_replaces_package_data_for_that_year():
    cal = WorkCalendar(official_years={2025: ([D(2025, 3, 3)], [])})
    assert not cal.is_workday(D(2025, 3, 3))
    assert cal.is_workday(D(2025, 10, 1))  # package holiday no longer applies in 2025
    assert not cal.is_workday(D(2026, 10, 1))  # other years keep the package data


def test_official_year_rejects_dates_of_another_year_and_overlaps():
    with pytest.raises(ValueError, match="another year"):
        WorkCalendar(official_years={2027: ([D(2028, 1, 3)], [])})
    with pytest.raises(ValueError, match="both"):
        WorkCalendar(official_years={2027: ([D(2027, 10, 1)], [D(2027, 10, 1)])})


def test_extra_off_and_on_override_everything():
    cal = WorkCalendar(
        extra_off=[D(2025, 3, 3), D(2025, 9, 28), D(2030, 5, 6)],
        extra_on=[D(2025, 3, 8), D(2025, 10, 8), D(2030, 5, 4)],
    )
    assert not cal.is_workday(D(2025, 3, 3))  # Monday made off
    assert not cal.is_workday(D(2025, 9, 28))  # 调休 Sunday made off
    assert cal.is_workday(D(2025, 3, 8))  # Saturday made on
    assert cal.is_workday(D(2025, 10, 8))  # statutory holiday made on
    assert not cal.is_workday(D(2030, 5, 6)) and cal.is_workday(D(2030, 5, 4))
    assert cal.is_provisional(D(2030, 5, 4))  # extras do not make a year official
    # the shared default calendar is untouched
    assert china_calendar().is_workday(D(2025, 3, 3))


def test_extra_off_and_on_on_the_same_day_is_an_error():
    with pytest.raises(ValueError, match="2025-03-03"):
        WorkCalendar(extra_off=[D(2025, 3, 3)], extra_on=[D(2025, 3, 3)])


def test_extra_off_also_overrides_an_official_year_on_day():
    cal = WorkCalendar(extra_off=[D(2027, 9, 26)], official_years={2027: ([], [D(2027, 9, 26)])})
    assert not cal.is_workday(D(2027, 9, 26))


# -- stepping and counting --------------------------------------------------------------------


def test_last_and_first_workday(cal):
    assert cal.last_workday_on_or_before(D(2025, 10, 5)) == D(2025, 9, 30)
    assert cal.first_workday_on_or_after(D(2025, 10, 1)) == D(2025, 10, 9)
    assert cal.last_workday_on_or_before(D(2025, 2, 9)) == D(2025, 2, 8)  # 调休 Saturday
    assert cal.first_workday_on_or_after(D(2025, 1, 25)) == D(2025, 1, 26)  # 调休 Sunday
    assert cal.last_workday_on_or_before(D(2025, 3, 5)) == D(2025, 3, 5)
    assert cal.first_workday_on_or_after(D(2025, 3, 5)) == D(2025, 3, 5)


def test_add_workdays(cal):
    assert cal.add_workdays(D(2025, 1, 27), 1) == D(2025, 2, 5)
    assert cal.add_workdays(D(2025, 2, 5), -1) == D(2025, 1, 27)
    assert cal.add_workdays(D(2025, 1, 24), 1) == D(2025, 1, 26)  # Friday -> 调休 Sunday
    assert cal.add_workdays(D(2025, 1, 30), 1) == D(2025, 2, 5)  # from inside the holiday
    assert cal.add_workdays(D(2025, 1, 30), -1) == D(2025, 1, 27)
    assert cal.add_workdays(D(2025, 3, 3), 5) == D(2025, 3, 10)
    assert cal.add_workdays(D(2025, 3, 10), -5) == D(2025, 3, 3)
    assert cal.add_workdays(D(2025, 3, 1), 1) == D(2025, 3, 3)  # Saturday: Monday is the 1st
    assert cal.add_workdays(D(2025, 3, 1), -1) == D(2025, 2, 28)
    assert cal.add_workdays(D(2026, 12, 31), 1) == D(2027, 1, 1)


def test_add_zero_workdays_is_undefined(cal):
    with pytest.raises(ValueError, match="undefined"):
        cal.add_workdays(D(2025, 3, 3), 0)


def test_workdays_between(cal):
    assert cal.workdays_between(D(2025, 1, 27), D(2025, 2, 5)) == 1
    assert cal.workdays_between(D(2025, 2, 5), D(2025, 1, 27)) == -1
    assert cal.workdays_between(D(2025, 3, 3), D(2025, 3, 3)) == 0
    assert cal.workdays_between(D(2025, 3, 3), D(2025, 3, 10)) == 5
    assert cal.workdays_between(D(2025, 2, 28), D(2025, 3, 1)) == 0  # Saturday counts as Friday
    assert cal.workdays_between(D(2025, 3, 1), D(2025, 3, 3)) == 1
    assert cal.workdays_between(D(2025, 9, 30), D(2025, 10, 9)) == 1
    assert cal.workdays_between(D(2025, 1, 1), D(2026, 1, 1)) == 248


def test_count_workdays_inclusive(cal):
    # 1-26 (调休 Sun), 1-27, 2-5, 2-6, 2-7, 2-8 (调休 Sat)
    assert cal.count_workdays(D(2025, 1, 25), D(2025, 2, 8)) == 6
    assert cal.count_workdays(D(2025, 3, 3), D(2025, 3, 3)) == 1
    assert cal.count_workdays(D(2025, 3, 1), D(2025, 3, 1)) == 0
    assert cal.count_workdays(D(2025, 3, 7), D(2025, 3, 3)) == 0


def test_dates_outside_the_range_raise_value_error(cal):
    for call in (
        lambda: cal.is_workday(D(2003, 12, 31)),
        lambda: cal.is_workday(D(2101, 1, 1)),
        lambda: cal.is_provisional(D(2101, 1, 1)),
        lambda: cal.workdays_between(D(2025, 1, 1), D(2101, 1, 1)),
        lambda: cal.count_workdays(D(2003, 1, 1), D(2025, 1, 1)),
        lambda: cal.last_workday_on_or_before(D(2003, 12, 31)),
    ):
        with pytest.raises(ValueError, match="outside the working-day calendar range"):
            call()
    with pytest.raises(ValueError, match="outside"):
        cal.add_workdays(D(2100, 12, 20), 30)
    with pytest.raises(ValueError, match="no working day on or before"):
        cal.last_workday_on_or_before(D(2004, 1, 1))  # New Year's Day, the first day of the range


def test_configurable_range():
    cal = WorkCalendar(start=D(2025, 1, 1), end=D(2025, 12, 31))
    assert cal.covered_range == (D(2025, 1, 1), D(2025, 12, 31))
    assert cal.workday_count == 248
    assert cal.date_at(0) == D(2025, 1, 2)
    assert cal.position_of(D(2025, 1, 2)) == 0
    with pytest.raises(ValueError):
        cal.is_workday(D(2026, 1, 5))
    with pytest.raises(ValueError):
        cal.date_at(248)
    with pytest.raises(ValueError, match="not a working day"):
        cal.position_of(D(2025, 1, 1))


def test_construction_is_fast():
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        WorkCalendar(extra_off=[D(2025, 3, 3)], official_years={2027: ([D(2027, 10, 1)], [])})
        timings.append(time.perf_counter() - started)
    assert min(timings) < 0.150


def test_default_calendar_is_built_once():
    assert china_calendar() is china_calendar()
    assert china_calendar().covered_range == (D(2004, 1, 1), D(2100, 12, 31))
