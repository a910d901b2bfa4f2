"""Properties of the calendar and of both scheduling passes over random DAGs (hypothesis)."""

from datetime import date, timedelta

import chinese_calendar
from hypothesis import given, settings
from hypothesis import strategies as st

from resettle.calendar import china_calendar
from resettle.scheduling import Dependency, Node, schedule

CAL = china_calendar()
SETTINGS = settings(max_examples=200, deadline=None)

years_2024_2028 = st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31))


@st.composite
def plans(draw: st.DrawFn) -> list[Node]:
    """A random DAG of up to 12 nodes, given in a shuffled (non-topological) order."""
    count = draw(st.integers(1, 12))
    nodes = []
    for i in range(count):
        preds = draw(st.lists(st.integers(0, i - 1), max_size=3, unique=True)) if i else []
        depends = tuple(Dependency(f"n{p}", draw(st.integers(0, 5))) for p in preds)
        nodes.append(Node(f"n{i}", draw(st.integers(0, 30)), depends))
    return draw(st.permutations(nodes))


def step(day: date, n: int) -> date:
    """day itself for n = 0, else the n-th working day after it."""
    return day if n == 0 else CAL.add_workdays(day, n)


def successors(nodes: list[Node]) -> dict[str, list[tuple[str, int]]]:
    result: dict[str, list[tuple[str, int]]] = {node.id: [] for node in nodes}
    for node in nodes:
        for dependency in node.depends:
            result[dependency.predecessor].append((node.id, dependency.lag))
    return result


@SETTINGS
@given(plans(), years_2024_2028)
def test_backward_pass(nodes, target):
    result = schedule(nodes, target, CAL)
    succs = successors(nodes)
    target_day = CAL.last_workday_on_or_before(target)
    for node in nodes:
        r = result[node.id]
        # deadlines are working days, d working days long, inclusive
        assert CAL.is_workday(r.start) and CAL.is_workday(r.finish)
        assert r.finish == step(r.start, max(node.duration - 1, 0))
        # every dependency and lag holds
        for dependency in node.depends:
            assert r.start >= CAL.add_workdays(
                result[dependency.predecessor].finish, dependency.lag + 1
            )
        # sinks finish on the target's working day; every other node is tight against a successor
        if not succs[node.id]:
            assert r.finish == target_day
        else:
            assert r.finish < target_day
            assert any(
                result[s].start == CAL.add_workdays(r.finish, lag + 1) for s, lag in succs[node.id]
            )
        # so no node could finish one working day later
        later = CAL.add_workdays(r.finish, 1)
        assert later > target_day or any(
            result[s].start < CAL.add_workdays(later, lag + 1) for s, lag in succs[node.id]
        )
        # provisional exactly when a year from its start to the target has no holiday data
        assert r.provisional == any(
            y in CAL.provisional_years for y in range(r.start.year, target.year + 1)
        )


@SETTINGS
@given(plans(), years_2024_2028, years_2024_2028)
def test_forward_pass(nodes, target, today):
    result = schedule(nodes, target, CAL, today=today)
    first_day = CAL.first_workday_on_or_after(today)
    for node in nodes:
        r = result[node.id]
        assert CAL.is_workday(r.forecast_start) and CAL.is_workday(r.forecast_finish)
        assert r.forecast_finish == step(r.forecast_start, max(node.duration - 1, 0))
        earliest = [first_day] + [
            CAL.add_workdays(result[d.predecessor].forecast_finish, d.lag + 1) for d in node.depends
        ]
        assert r.forecast_start == max(earliest)  # as early as possible, never before today
        assert r.slip == CAL.workdays_between(r.finish, r.forecast_finish) == -r.slack
        assert r.provisional == CAL.touches_provisional(
            min(r.start, today, r.forecast_start), max(target, today, r.forecast_finish)
        )
        # the forecast alone: provisional exactly when a year it counted through has no data
        assert r.forecast_provisional == any(
            y in CAL.provisional_years
            for y in range(min(today, r.forecast_start).year, r.forecast_finish.year + 1)
        )
    least = min(r.slack for r in result.values())
    assert {k for k, r in result.items() if r.critical} == {
        k for k, r in result.items() if r.slack == least
    }
    # the critical nodes include a sink and, going backwards, a chain to a node that starts today
    critical = {k for k, r in result.items() if r.critical}
    succs = successors(nodes)
    assert any(not succs[k] for k in critical)
    assert any(result[k].forecast_start == first_day for k in critical)


@SETTINGS
@given(plans(), years_2024_2028, st.data())
def test_forward_pass_with_actuals(nodes, target, data):
    today = data.draw(st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 12, 31)))
    with_actuals = []
    for node in nodes:
        kind = data.draw(st.sampled_from(["none", "started", "finished"]))
        start = data.draw(st.dates(min_value=date(2024, 1, 1), max_value=today))
        finish = data.draw(st.dates(min_value=start, max_value=today))
        if kind == "started":
            node = Node(node.id, node.duration, node.depends, actual_start=start)
        elif kind == "finished":
            node = Node(
                node.id, node.duration, node.depends, actual_start=start, actual_finish=finish
            )
        with_actuals.append(node)
    result = schedule(with_actuals, target, CAL, today=today)
    first_day = CAL.first_workday_on_or_after(today)
    for node in with_actuals:
        r = result[node.id]
        if node.actual_finish is not None:
            assert (r.forecast_start, r.forecast_finish) == (node.actual_start, node.actual_finish)
            assert r.critical is False
        else:
            assert r.forecast_finish >= first_day
            if node.actual_start is not None:
                assert r.forecast_start == node.actual_start
            else:
                for d in node.depends:
                    assert r.forecast_start >= CAL.add_workdays(
                        result[d.predecessor].forecast_finish, d.lag + 1
                    )
        assert r.slip == CAL.workdays_between(r.finish, r.forecast_finish)


@SETTINGS
@given(
    st.dates(min_value=date(2004, 4, 1), max_value=date(2100, 10, 31)),
    st.integers(-40, 40).filter(bool),
)
def test_add_workdays_and_workdays_between_are_inverse(day, n):
    moved = CAL.add_workdays(day, n)
    assert CAL.is_workday(moved)
    assert (moved > day) == (n > 0)
    anchor = CAL.last_workday_on_or_before(day) if n > 0 else CAL.first_workday_on_or_after(day)
    assert CAL.workdays_between(anchor, moved) == n
    assert CAL.count_workdays(min(day, moved), max(day, moved)) - CAL.is_workday(day) == abs(n)


@SETTINGS
@given(st.dates(min_value=date(2004, 1, 1), max_value=date(2026, 10, 31)), st.integers(0, 60))
def test_count_workdays_matches_the_package(first, length):
    last = first + timedelta(length)
    expected = sum(chinese_calendar.is_workday(first + timedelta(k)) for k in range(length + 1))
    assert CAL.count_workdays(first, last) == expected
