"""Scheduler: hand-computed backward and forward passes, provisional flags, errors."""

from datetime import date

import pytest

from resettle.calendar import WorkCalendar, china_calendar
from resettle.scheduling import (
    Dependency,
    Node,
    ScheduleResult,
    SchedulingError,
    schedule,
    schedule_from_json,
)

D = date
CAL = china_calendar()


def dates(result: ScheduleResult) -> tuple[date, date]:
    return result.start, result.finish


def after(*ids: str, lag: int = 0) -> tuple[Dependency, ...]:
    return tuple(Dependency(i, lag) for i in ids)


# -- backward pass ----------------------------------------------------------------------------


def test_one_day_node_starts_and_finishes_on_the_target():
    result = schedule([Node("a", 1)], D(2025, 3, 14), CAL)["a"]
    assert dates(result) == (D(2025, 3, 14), D(2025, 3, 14))
    assert result.provisional is False
    assert result.forecast_start is None and result.slip is None and result.critical is None


def test_five_day_node_occupies_five_working_days():
    result = schedule([Node("a", 5)], D(2025, 3, 14), CAL)["a"]
    assert dates(result) == (D(2025, 3, 10), D(2025, 3, 14))


def test_milestone_on_a_saturday_target_falls_on_friday():
    result = schedule([Node("m", 0)], D(2025, 3, 15), CAL)["m"]
    assert dates(result) == (D(2025, 3, 14), D(2025, 3, 14))


def test_milestone_after_a_task_falls_on_the_next_working_day():
    plan = [Node("a", 3), Node("m", 0, after("a"))]
    result = schedule(plan, D(2025, 3, 14), CAL)
    assert dates(result["m"]) == (D(2025, 3, 14), D(2025, 3, 14))
    assert dates(result["a"]) == (D(2025, 3, 11), D(2025, 3, 13))


def test_task_after_a_milestone_starts_the_working_day_after_it():
    plan = [Node("m", 0), Node("b", 1, after("m"))]
    result = schedule(plan, D(2025, 3, 17), CAL)  # Monday
    assert dates(result["b"]) == (D(2025, 3, 17), D(2025, 3, 17))
    assert dates(result["m"]) == (D(2025, 3, 14), D(2025, 3, 14))


def test_lag_zero_and_lag_two():
    lag0 = schedule([Node("a", 1), Node("b", 1, after("a"))], D(2025, 3, 14), CAL)
    assert dates(lag0["a"]) == (D(2025, 3, 13), D(2025, 3, 13))
    # b starts no earlier than the 3rd working day after a's finish: 3-11 -> 12, 13, 14
    lag2 = schedule([Node("a", 1), Node("b", 1, after("a", lag=2))], D(2025, 3, 14), CAL)
    assert dates(lag2["b"]) == (D(2025, 3, 14), D(2025, 3, 14))
    assert dates(lag2["a"]) == (D(2025, 3, 11), D(2025, 3, 11))


def test_lag_over_a_weekend():
    plan = [Node("a", 2), Node("b", 1, after("a", lag=1))]
    result = schedule(plan, D(2025, 3, 17), CAL)  # Monday
    # b may start on the 2nd working day after a's finish: 3-13 (Thu) -> 3-14, 3-17
    assert dates(result["a"]) == (D(2025, 3, 12), D(2025, 3, 13))


def test_target_on_a_holiday_finishes_on_the_last_working_day_before():
    assert dates(schedule([Node("a", 1)], D(2025, 10, 3), CAL)["a"])[1] == D(2025, 9, 30)
    assert dates(schedule([Node("a", 1)], D(2025, 10, 8), CAL)["a"])[1] == D(2025, 9, 30)
    # a 调休 Sunday is a working day: the target itself
    assert dates(schedule([Node("a", 1)], D(2025, 9, 28), CAL)["a"])[1] == D(2025, 9, 28)


def test_every_sink_finishes_on_the_target_and_the_shared_predecessor_before_the_earliest():
    plan = [Node("s", 2), Node("long", 4, after("s")), Node("short", 1, after("s"))]
    result = schedule(plan, D(2025, 3, 14), CAL)
    assert dates(result["long"]) == (D(2025, 3, 11), D(2025, 3, 14))
    assert dates(result["short"]) == (D(2025, 3, 14), D(2025, 3, 14))
    assert dates(result["s"]) == (D(2025, 3, 7), D(2025, 3, 10))
    assert list(result) == ["s", "long", "short"]


def test_chain_across_spring_festival_2025():
    plan = [Node("a", 5), Node("b", 3, after("a"))]
    result = schedule(plan, D(2025, 2, 10), CAL)
    # b: 2-10 (Mon), 2-8 (调休 Sat), 2-7
    assert dates(result["b"]) == (D(2025, 2, 7), D(2025, 2, 10))
    # a: 2-6, 2-5, [1-28..2-4 off], 1-27, 1-26 (调休 Sun), [1-25 Sat], 1-24
    assert dates(result["a"]) == (D(2025, 1, 24), D(2025, 2, 6))


def test_chain_across_a_tiaoxiu_saturday():
    result = schedule([Node("a", 2)], D(2025, 2, 9), CAL)["a"]  # Sunday
    assert dates(result) == (D(2025, 2, 7), D(2025, 2, 8))


def test_chain_across_national_day_2025():
    plan = [Node("a", 2), Node("b", 2, after("a"))]
    result = schedule(plan, D(2025, 10, 12), CAL)  # Sunday
    assert dates(result["b"]) == (D(2025, 10, 10), D(2025, 10, 11))  # Fri + 调休 Sat
    assert dates(result["a"]) == (D(2025, 9, 30), D(2025, 10, 9))


def test_chain_across_national_day_and_mid_autumn_2026():
    plan = [Node("x", 2), Node("a", 3, after("x", lag=1))]
    result = schedule(plan, D(2026, 10, 9), CAL)
    # a: 10-9, 10-8, [10-1..10-7 off], 9-30
    assert dates(result["a"]) == (D(2026, 9, 30), D(2026, 10, 9))
    # x finishes 2 working days before 9-30: 9-29, 9-28; starts 9-24 ([9-25..9-27 off])
    assert dates(result["x"]) == (D(2026, 9, 24), D(2026, 9, 28))


def test_chain_across_spring_festival_2026():
    result = schedule([Node("a", 3)], D(2026, 2, 24), CAL)["a"]
    assert dates(result) == (D(2026, 2, 13), D(2026, 2, 24))  # 2-13, 2-14 (调休 Sat), 2-24


# -- provisional ------------------------------------------------------------------------------


def test_plan_inside_official_years_is_not_provisional():
    plan = [Node("a", 20), Node("b", 10, after("a"))]
    result = schedule(plan, D(2026, 12, 31), CAL)
    assert [r.provisional for r in result.values()] == [False, False]


def test_plan_reaching_into_2027_is_provisional():
    plan = [Node("a", 20), Node("b", 10, after("a"))]
    result = schedule(plan, D(2027, 1, 15), CAL)
    assert result["a"].start.year == 2026  # computed back through January 2027
    assert [r.provisional for r in result.values()] == [True, True]


def test_official_year_clears_the_provisional_flag():
    cal = WorkCalendar(official_years={2027: ([D(2027, 1, 1)], [])})
    result = schedule([Node("a", 5)], D(2027, 1, 4), cal)["a"]
    assert result.provisional is False
    assert dates(result) == (D(2026, 12, 28), D(2027, 1, 4))  # 1-1 is now a holiday


def test_forecast_reaching_into_2027_makes_only_that_node_provisional():
    plan = [Node("short", 5), Node("long", 300)]
    result = schedule(plan, D(2026, 12, 31), CAL, today=D(2026, 3, 2))
    assert result["short"].provisional is False
    assert result["long"].forecast_finish.year == 2027
    assert result["long"].provisional is True


def test_a_forecast_chain_through_2027_is_forecast_provisional():
    # deadlines inside 2026, but the chain is forecast to run on into January 2027
    plan = [Node("a", 20), Node("b", 10, after("a"))]
    result = schedule(plan, D(2026, 12, 31), CAL, today=D(2026, 12, 1))
    a, b = result["a"], result["b"]
    assert b.forecast_finish.year == 2027 and a.forecast_finish.year == 2026
    assert b.forecast_provisional is True
    assert a.forecast_provisional is False  # counted from 2026-12-01 to 2026-12-28, no 2027 day


def test_a_forecast_chain_ending_in_2026_is_not_forecast_provisional():
    plan = [Node("a", 20), Node("b", 10, after("a"))]
    result = schedule(plan, D(2026, 12, 31), CAL, today=D(2026, 9, 1))
    assert [r.forecast_finish.year for r in result.values()] == [2026, 2026]
    assert [r.forecast_provisional for r in result.values()] == [False, False]


def test_a_forecast_inside_2027_is_provisional_whatever_the_deadline():
    # target in 2028: the deadlines are provisional, and so is the forecast lying in 2027
    plan = [Node("a", 5, actual_start=D(2026, 12, 28))]
    result = schedule(plan, D(2028, 6, 30), CAL, today=D(2026, 12, 31))["a"]
    assert result.forecast_start == D(2026, 12, 28) and result.forecast_finish.year == 2027
    assert result.forecast_provisional is True


def test_a_finished_node_forecasts_its_actual_dates_not_provisionally():
    plan = [Node("a", 5, actual_start=D(2026, 3, 2), actual_finish=D(2026, 3, 6))]
    result = schedule(plan, D(2027, 6, 30), CAL, today=D(2026, 3, 9))["a"]
    assert result.provisional is True  # its deadline is counted back from 2027
    assert result.forecast_finish == D(2026, 3, 6) and result.forecast_provisional is False


def test_an_official_2027_clears_the_forecast_flag():
    cal = WorkCalendar(official_years={2027: ([D(2027, 1, 1)], [])})
    plan = [Node("a", 20), Node("b", 10, after("a"))]
    b = schedule(plan, D(2026, 12, 31), cal, today=D(2026, 12, 1))["b"]
    assert b.forecast_finish.year == 2027 and b.forecast_provisional is False


# -- forward pass -----------------------------------------------------------------------------


def test_forecast_without_actuals_starts_today_or_after_predecessors():
    plan = [Node("a", 5), Node("b", 3, after("a", lag=1))]
    result = schedule(plan, D(2025, 3, 28), CAL, today=D(2025, 3, 1))  # Saturday
    a, b = result["a"], result["b"]
    assert (a.forecast_start, a.forecast_finish) == (D(2025, 3, 3), D(2025, 3, 7))
    assert (b.forecast_start, b.forecast_finish) == (D(2025, 3, 11), D(2025, 3, 13))
    assert dates(b) == (D(2025, 3, 26), D(2025, 3, 28))
    assert b.slip == -11 and b.slack == 11  # 3-13 is 11 working days before 3-28


def test_forecast_of_a_started_node_is_never_before_today():
    plan = [Node("a", 5, actual_start=D(2025, 3, 10)), Node("b", 3, after("a"))]
    result = schedule(plan, D(2025, 3, 21), CAL, today=D(2025, 3, 17))
    a, b = result["a"], result["b"]
    assert dates(a) == (D(2025, 3, 12), D(2025, 3, 18))
    # 3-10 + 4 working days = 3-14, but it is not finished: today, 3-17
    assert (a.forecast_start, a.forecast_finish) == (D(2025, 3, 10), D(2025, 3, 17))
    assert (b.forecast_start, b.forecast_finish) == (D(2025, 3, 18), D(2025, 3, 20))
    assert (a.slip, b.slip) == (-1, -1)


def test_started_node_finishes_after_its_remaining_duration():
    plan = [Node("a", 10, actual_start=D(2025, 3, 10))]
    a = schedule(plan, D(2025, 3, 31), CAL, today=D(2025, 3, 12))["a"]
    assert a.forecast_finish == D(2025, 3, 21)


def test_finished_late_node_pushes_its_successor_and_slips():
    plan = [
        Node("a", 5, actual_start=D(2025, 3, 3), actual_finish=D(2025, 3, 19)),
        Node("b", 3, after("a")),
    ]
    result = schedule(plan, D(2025, 3, 21), CAL, today=D(2025, 3, 20))
    a, b = result["a"], result["b"]
    assert (a.forecast_start, a.forecast_finish) == (D(2025, 3, 3), D(2025, 3, 19))
    assert a.finish == D(2025, 3, 18) and a.slip == 1
    assert (b.forecast_start, b.forecast_finish) == (D(2025, 3, 20), D(2025, 3, 24))
    assert b.slip == 1  # 3-24 is one working day after the 3-21 deadline
    assert (a.critical, b.critical) == (False, True)  # finished nodes are never critical


def test_actual_finish_on_a_saturday_lets_the_successor_start_monday():
    plan = [Node("a", 2, actual_finish=D(2025, 3, 15)), Node("b", 1, after("a"))]
    result = schedule(plan, D(2025, 3, 31), CAL, today=D(2025, 3, 15))
    assert result["a"].forecast_start == D(2025, 3, 13)  # 2 days ending on Friday 3-14
    assert result["a"].forecast_finish == D(2025, 3, 15)
    assert result["b"].forecast_start == D(2025, 3, 17)


def test_forecast_past_the_target_slips_in_working_days():
    plan = [Node("a", 10)]
    a = schedule(plan, D(2025, 9, 30), CAL, today=D(2025, 9, 25))["a"]
    # 9-25, 26, 28 (调休 Sun), 29, 30, 10-9, 10, 11 (调休 Sat), 13, 14
    assert a.forecast_finish == D(2025, 10, 14)
    assert a.slip == 5 == CAL.workdays_between(a.finish, a.forecast_finish)
    assert a.critical is True


def test_critical_path_on_a_diamond():
    plan = [
        Node("s", 2),
        Node("a", 5, after("s")),
        Node("b", 2, after("s")),
        Node("e", 1, after("a", "b")),
    ]
    result = schedule(plan, D(2025, 3, 31), CAL, today=D(2025, 3, 3))
    assert dates(result["e"]) == (D(2025, 3, 31), D(2025, 3, 31))
    assert dates(result["a"]) == (D(2025, 3, 24), D(2025, 3, 28))
    assert dates(result["b"]) == (D(2025, 3, 27), D(2025, 3, 28))
    assert dates(result["s"]) == (D(2025, 3, 20), D(2025, 3, 21))
    assert result["e"].forecast_finish == D(2025, 3, 12)
    assert {k: r.slack for k, r in result.items()} == {"s": 13, "a": 13, "b": 16, "e": 13}
    assert {k for k, r in result.items() if r.critical} == {"s", "a", "e"}


# -- errors -----------------------------------------------------------------------------------


TARGET = D(2025, 3, 14)


def error_of(plan, target=TARGET, today=None, calendar=CAL) -> SchedulingError:
    with pytest.raises(SchedulingError) as info:
        schedule(plan, target, calendar, today)
    return info.value


def test_cycle_names_a_node_on_the_cycle():
    error = error_of(
        [
            Node("x", 1),
            Node("a", 1, after("b", "x")),
            Node("b", 1, after("a")),
            Node("c", 1, after("b")),
        ]
    )
    assert error.message == "Dependencies form a cycle."
    assert error.node_id in {"a", "b"}


def test_self_dependency_is_a_cycle():
    assert error_of([Node("a", 1, after("a"))]).node_id == "a"


def test_unknown_predecessor():
    error = error_of([Node("a", 1, after("ghost"))])
    assert error.node_id == "a" and "ghost" in str(error)


def test_duplicate_id():
    error = error_of([Node("a", 1), Node("a", 2)])
    assert (error.message, error.node_id) == ("Duplicate node id.", "a")


@pytest.mark.parametrize("duration", [2.5, 3.0, "3", True, None])
def test_non_integer_duration(duration):
    error = error_of([Node("a", duration)])
    assert error.node_id == "a" and "whole number" in error.message


def test_negative_duration_and_lag():
    assert error_of([Node("a", -1)]).message == "Duration must not be negative."
    error = error_of([Node("a", 1), Node("b", 1, after("a", lag=-1))])
    assert (error.message, error.node_id) == ("Lag must not be negative.", "b")
    assert error_of([Node("a", 1), Node("b", 1, (Dependency("a", 1.5),))]).node_id == "b"


def test_bad_dates():
    assert error_of([Node("a", 1)], target="2025-03-14").message == "Target date is not a date."
    assert "outside the working-day calendar" in str(error_of([Node("a", 1)], target=D(2101, 1, 1)))
    assert error_of([Node("a", 1, actual_start="2025-03-03")], today=D(2025, 3, 5)).node_id == "a"
    assert error_of([Node("a", 1)], today="today").message == "Today is not a date."


def test_plan_before_the_calendar_range():
    error = error_of([Node("a", 1), Node("b", 100, after("a"))], target=D(2004, 3, 1))
    assert error.node_id == "a" and "before the working-day calendar" in error.message


def test_actual_finish_before_actual_start():
    error = error_of([Node("a", 3, actual_start=D(2025, 3, 5), actual_finish=D(2025, 3, 4))])
    assert (error.message, error.node_id) == ("Actual finish is before actual start.", "a")


def test_actual_dates_in_the_future():
    for node in (
        Node("a", 3, actual_start=D(2025, 3, 6)),
        Node("a", 3, actual_finish=D(2025, 3, 6)),
    ):
        error = error_of([node], today=D(2025, 3, 5))
        assert (error.message, error.node_id) == ("Actual date is in the future.", "a")


def test_error_message_names_the_node_and_fills_parameters():
    error = error_of([Node("a", 1, after("ghost"))])
    assert str(error) == "Unknown predecessor 'ghost'. (node 'a')"
    assert error.params == {"predecessor": "'ghost'"}


# -- JSON contract ----------------------------------------------------------------------------


def test_schedule_from_json_with_calendar_section():
    data = {
        "target": "2025-03-14",
        "nodes": [
            {"id": "a", "duration": 2},
            {"id": "b", "duration": 1, "depends": [{"id": "a", "lag": 1}]},
        ],
        "calendar": {"off": ["2025-03-13"], "on": ["2025-03-08"]},
    }
    assert schedule_from_json(data, None) == {
        "nodes": {
            # b 3-14; a finishes 2 working days before: 3-12, 3-11 (3-13 off)
            "a": {
                "start": "2025-03-10",
                "finish": "2025-03-11",
                "provisional": False,
                "forecast_provisional": False,
            },
            "b": {
                "start": "2025-03-14",
                "finish": "2025-03-14",
                "provisional": False,
                "forecast_provisional": False,
            },
        }
    }


def test_schedule_from_json_official_years():
    data = {
        "target": "2027-10-04",
        "nodes": [{"id": "a", "duration": 1}],
        "calendar": {"official": {"2027": {"off": ["2027-10-01", "2027-10-04"], "on": []}}},
    }
    assert schedule_from_json(data, None)["nodes"]["a"] == {
        "start": "2027-09-30",
        "finish": "2027-09-30",
        "provisional": False,
        "forecast_provisional": False,
    }
