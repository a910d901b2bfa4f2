"""Working days of the China calendar, with local overrides and provisional years.

A :class:`WorkCalendar` is built once and then answers every question in O(1) or O(log n):
it precomputes, over a fixed range of dates (2004-01-01..2100-12-31 by default), one flag per
day, a running count of working days and the sorted list of working days. Working days are then
addressed by their *position* (0 = the first working day of the range), which is what the
scheduler computes with.

Which days are working days, from the lowest precedence to the highest:

1. Monday to Friday are working days, Saturday and Sunday are not.
2. For a year the ``chinesecalendar`` package covers (2004-2026 in version 1.11), its statutory
   holidays are off and its adjusted working weekends (调休上班日) are on.
3. For a year in ``official_years`` (typed in by an admin once the State Council published it),
   those holidays are off and those working days are on; this replaces the package data for
   that year, should the package also cover it.
4. ``extra_off`` days are off and ``extra_on`` days are on (a day in both is a ValueError).

A year covered by neither the package nor ``official_years`` is *provisional* (暂定): only
weekends and the extra days count there, and everything computed through it is marked as such.
Every date outside the precomputed range raises ValueError.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from itertools import accumulate, compress

from chinese_calendar import constants as _package_data

__all__ = ["DEFAULT_END", "DEFAULT_START", "WorkCalendar", "china_calendar", "outside_calendar"]

DEFAULT_START = date(2004, 1, 1)
DEFAULT_END = date(2100, 12, 31)


def outside_calendar(day: date) -> str | None:
    """What to tell a person who entered a date the calendar does not cover (translated);
    None for a date inside it."""
    if DEFAULT_START <= day <= DEFAULT_END:
        return None
    from resettle.translate import gettext as _

    return _(
        "Date %(date)s is outside the working-day calendar (%(first)s to %(last)s).",
        date=day.isoformat(),
        first=DEFAULT_START.isoformat(),
        last=DEFAULT_END.isoformat(),
    )


_PACKAGE_YEARS = range(
    min(_package_data.holidays).year,
    max(max(_package_data.holidays).year, max(_package_data.workdays).year) + 1,
)


def _as_date(value: object, what: str) -> date:
    """Return value as a date, refusing anything else with a TypeError naming it."""
    if not isinstance(value, date):
        raise TypeError(f"{what}: expected a datetime.date, got {type(value).__name__}")
    return value.date() if isinstance(value, datetime) else value


class WorkCalendar:
    """Working days of the China calendar plus admin overrides, indexed for fast stepping."""

    __slots__ = (
        "_base",
        "_cum",
        "_end",
        "_flags",
        "_next_provisional",
        "_provisional",
        "_start",
        "_work",
    )

    def __init__(
        self,
        extra_off: Iterable[date] = (),
        extra_on: Iterable[date] = (),
        official_years: Mapping[int, tuple[Iterable[date], Iterable[date]]] | None = None,
        *,
        start: date = DEFAULT_START,
        end: date = DEFAULT_END,
    ) -> None:
        """Build the index over start..end (inclusive); extras and official years outside it are ignored."""
        start, end = _as_date(start, "start"), _as_date(end, "end")
        if end < start:
            raise ValueError(f"calendar range is empty: {start} > {end}")
        base = start.toordinal()
        size = end.toordinal() - base + 1

        first_weekday = start.weekday()
        week = bytes(1 if (first_weekday + k) % 7 < 5 else 0 for k in range(7))
        flags = bytearray(week * (size // 7 + 1))
        del flags[size:]

        def mark(day: date, value: int) -> None:
            offset = day.toordinal() - base
            if 0 <= offset < size:
                flags[offset] = value

        official: dict[int, tuple[list[date], list[date]]] = {}
        for year, (off_days, on_days) in (official_years or {}).items():
            if not isinstance(year, int) or isinstance(year, bool):
                raise TypeError(f"official_years: year must be an int, got {year!r}")
            off_list = [_as_date(d, f"official_years[{year}] off") for d in off_days]
            on_list = [_as_date(d, f"official_years[{year}] on") for d in on_days]
            for day in (*off_list, *on_list):
                if day.year != year:
                    raise ValueError(
                        f"official_years[{year}] contains {day}, which is in another year"
                    )
            both = set(off_list) & set(on_list)
            if both:
                raise ValueError(
                    f"official_years[{year}]: {min(both)} is both a holiday and a working day"
                )
            official[year] = (off_list, on_list)

        for day in _package_data.holidays:
            if day.year not in official:
                mark(day, 0)
        for day in _package_data.workdays:
            if day.year not in official:
                mark(day, 1)
        for off_list, on_list in official.values():
            for day in off_list:
                mark(day, 0)
            for day in on_list:
                mark(day, 1)

        extra_off_set = {_as_date(d, "extra_off") for d in extra_off}
        extra_on_set = {_as_date(d, "extra_on") for d in extra_on}
        both = extra_off_set & extra_on_set
        if both:
            raise ValueError(f"{min(both)} is in both extra_off and extra_on")
        for day in extra_off_set:
            mark(day, 0)
        for day in extra_on_set:
            mark(day, 1)

        data_years = set(_PACKAGE_YEARS) | set(official)
        years = range(start.year, end.year + 1)
        provisional = frozenset(y for y in years if y not in data_years)
        # _next_provisional[y - start.year]: first provisional year >= y (end.year + 1 if none).
        next_provisional = [end.year + 1] * (len(years) + 1)
        for k in range(len(years) - 1, -1, -1):
            year = years[k]
            next_provisional[k] = year if year in provisional else next_provisional[k + 1]

        self._start = start
        self._end = end
        self._base = base
        self._flags = bytes(flags)
        self._cum = list(accumulate(flags))  # _cum[i]: working days in offsets 0..i
        self._work = list(compress(range(size), flags))  # offsets of the working days
        self._provisional = provisional
        self._next_provisional = next_provisional
        if not self._work:
            raise ValueError(f"calendar range {start}..{end} has no working day")

    def __repr__(self) -> str:
        """Show the range and how many working days it holds."""
        return f"<WorkCalendar {self._start}..{self._end}, {len(self._work)} working days>"

    # -- range and provisional years -------------------------------------------------------

    @property
    def covered_range(self) -> tuple[date, date]:
        """First and last date (inclusive) every method accepts."""
        return self._start, self._end

    @property
    def provisional_years(self) -> frozenset[int]:
        """Years of the range covered neither by the package data nor by official_years."""
        return self._provisional

    @property
    def workday_count(self) -> int:
        """Number of working days in the range (positions are 0..workday_count-1)."""
        return len(self._work)

    def _offset(self, day: date) -> int:
        """Offset of day in the index; ValueError when outside the range."""
        offset = day.toordinal() - self._base
        if not 0 <= offset < len(self._flags):
            raise ValueError(
                f"{day} is outside the working-day calendar range {self._start}..{self._end}"
            )
        return offset

    def is_provisional(self, day: date) -> bool:
        """True when day's year has no official holiday data (package or admin-entered)."""
        self._offset(day)
        return day.year in self._provisional

    def touches_provisional(self, first: date, last: date) -> bool:
        """True when any year from first.year to last.year (either order) is provisional."""
        low, high = (first, last) if first <= last else (last, first)
        self._offset(low)
        self._offset(high)
        return self._next_provisional[low.year - self._start.year] <= high.year

    # -- single days -----------------------------------------------------------------------

    def is_workday(self, day: date) -> bool:
        """True when day is a working day."""
        return self._flags[self._offset(day)] == 1

    def last_workday_on_or_before(self, day: date) -> date:
        """The latest working day <= day."""
        return self.date_at(self.position_on_or_before(day))

    def first_workday_on_or_after(self, day: date) -> date:
        """The earliest working day >= day."""
        return self.date_at(self.position_on_or_after(day))

    def add_workdays(self, day: date, n: int) -> date:
        """The n-th working day after day (n >= 1) or before it (n <= -1); day itself never counts.

        n = 0 is ambiguous for a non-working day and raises ValueError; use
        first_workday_on_or_after / last_workday_on_or_before instead.
        """
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"n must be an int, got {type(n).__name__}")
        if n == 0:
            raise ValueError("add_workdays(day, 0) is undefined; n must be >= 1 or <= -1")
        offset = self._offset(day)
        if n > 0:
            position = self._cum[offset] + n - 1
        else:
            position = self._cum[offset] - self._flags[offset] + n
        if not 0 <= position < len(self._work):
            raise ValueError(
                f"{day} {n:+d} working days is outside the working-day calendar range "
                f"{self._start}..{self._end}"
            )
        return self.date_at(position)

    # -- spans -----------------------------------------------------------------------------

    def workdays_between(self, first: date, second: date) -> int:
        """Signed working-day distance from first to second.

        For first <= second: the number of working days d with first < d <= second; for
        second < first: minus the number with second < d <= first. Between two working days
        this is the difference of their positions (Friday -> next Monday = 1), and
        add_workdays(first, workdays_between(first, second)) == second. A non-working day
        counts as the last working day before it (Saturday and Sunday behave like Friday).
        So workdays_between(deadline, forecast) is the slip: positive when late.
        """
        return self._cum[self._offset(second)] - self._cum[self._offset(first)]

    def count_workdays(self, first: date, last: date) -> int:
        """Number of working days d with first <= d <= last (0 when last < first)."""
        first_offset, last_offset = self._offset(first), self._offset(last)
        if last_offset < first_offset:
            return 0
        return self._cum[last_offset] - self._cum[first_offset] + self._flags[first_offset]

    # -- positions (integer working-day indices, for the scheduler) -------------------------

    def position_on_or_before(self, day: date) -> int:
        """Position of the latest working day <= day; ValueError if the range has none."""
        position = self._cum[self._offset(day)] - 1
        if position < 0:
            raise ValueError(f"no working day on or before {day} in the calendar range")
        return position

    def position_on_or_after(self, day: date) -> int:
        """Position of the earliest working day >= day; ValueError if the range has none."""
        offset = self._offset(day)
        position = self._cum[offset] - self._flags[offset]
        if position >= len(self._work):
            raise ValueError(f"no working day on or after {day} in the calendar range")
        return position

    def position_of(self, day: date) -> int:
        """Position of a working day; ValueError when day is not a working day."""
        offset = self._offset(day)
        if not self._flags[offset]:
            raise ValueError(f"{day} is not a working day")
        return self._cum[offset] - 1

    def date_at(self, position: int) -> date:
        """The working day at a position (0 = first working day of the range)."""
        if not 0 <= position < len(self._work):
            raise ValueError(
                f"working day #{position} is outside the working-day calendar range "
                f"{self._start}..{self._end}"
            )
        return date.fromordinal(self._base + self._work[position])


@functools.cache
def china_calendar() -> WorkCalendar:
    """The shared China calendar without local overrides, built once per process."""
    return WorkCalendar()
