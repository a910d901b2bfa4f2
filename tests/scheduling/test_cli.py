"""`plan schedule INPUT.json [--today]`: JSON out, one-line errors, no tracebacks."""

import json

import pytest
from click.testing import CliRunner

from resettle.plans.cli import plan_cli

PLAN = {
    "target": "2025-10-12",
    "nodes": [
        {"id": "survey", "duration": 2},
        {"id": "sign", "duration": 2, "depends": [{"id": "survey"}]},
        {"id": "done", "duration": 0, "depends": [{"id": "sign", "lag": 1}]},
    ],
}


NOT_FORECAST = {"forecast_provisional": False}


def run(tmp_path, data, *args: str):
    path = tmp_path / "plan.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return CliRunner().invoke(plan_cli, ["schedule", str(path), *args])


def test_prints_deadlines_as_json(tmp_path):
    result = run(tmp_path, PLAN)
    assert result.exit_code == 0, result.output
    # done: 10-11 (调休 Sat); sign ends 2 working days before: 10-9; survey before the holiday
    assert json.loads(result.stdout) == {
        "nodes": {
            "survey": {
                "start": "2025-09-28",
                "finish": "2025-09-29",
                "provisional": False,
                **NOT_FORECAST,
            },
            "sign": {
                "start": "2025-09-30",
                "finish": "2025-10-09",
                "provisional": False,
                **NOT_FORECAST,
            },
            "done": {
                "start": "2025-10-11",
                "finish": "2025-10-11",
                "provisional": False,
                **NOT_FORECAST,
            },
        }
    }


def test_today_adds_forecast_slip_and_critical(tmp_path):
    plan = json.loads(json.dumps(PLAN))
    plan["nodes"][0]["actual_start"] = "2025-09-26"
    result = run(tmp_path, plan, "--today", "2025-09-30")
    assert result.exit_code == 0, result.output
    nodes = json.loads(result.stdout)["nodes"]
    assert nodes["survey"] == {
        "start": "2025-09-28",
        "finish": "2025-09-29",
        "provisional": False,
        "forecast_provisional": False,
        "forecast_start": "2025-09-26",
        "forecast_finish": "2025-09-30",  # not finished: today at the earliest
        "slip": 1,
        "critical": True,
    }
    assert nodes["sign"]["forecast_start"] == "2025-10-09"
    assert nodes["sign"]["forecast_finish"] == "2025-10-10"
    assert nodes["done"]["forecast_finish"] == "2025-10-13"  # lag 1: 10-11 (调休 Sat) in between
    assert [n["slip"] for n in nodes.values()] == [1, 1, 1]
    assert all(isinstance(n["slip"], int) and n["critical"] is True for n in nodes.values())


def test_provisional_plan(tmp_path):
    result = run(tmp_path, {"target": "2027-03-01", "nodes": [{"id": "a", "duration": 3}]})
    assert result.exit_code == 0
    assert json.loads(result.stdout)["nodes"]["a"] == {
        "start": "2027-02-25",
        "finish": "2027-03-01",
        "provisional": True,
        "forecast_provisional": False,  # no --today: no forecast
    }


def test_forecast_running_into_2027_is_marked_provisional_in_the_json(tmp_path):
    plan = {
        "target": "2026-12-31",
        "nodes": [
            {"id": "build", "duration": 20},
            {"id": "handover", "duration": 10, "depends": [{"id": "build"}]},
        ],
    }
    result = run(tmp_path, plan, "--today", "2026-12-01")
    assert result.exit_code == 0, result.output
    nodes = json.loads(result.stdout)["nodes"]
    assert nodes["handover"]["forecast_finish"].startswith("2027-")
    assert nodes["handover"]["forecast_provisional"] is True
    assert nodes["build"]["forecast_finish"].startswith("2026-")
    assert nodes["build"]["forecast_provisional"] is False
    result = run(tmp_path, plan, "--today", "2026-09-01")
    nodes = json.loads(result.stdout)["nodes"]
    assert [n["forecast_provisional"] for n in nodes.values()] == [False, False]


def test_calendar_section_is_applied(tmp_path):
    plan = {
        "target": "2025-03-14",
        "nodes": [{"id": "a", "duration": 1}],
        "calendar": {"off": ["2025-03-14"]},
    }
    result = run(tmp_path, plan)
    assert json.loads(result.stdout)["nodes"]["a"]["finish"] == "2025-03-13"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("{not json", "invalid JSON"),
        ("[]", "input must be a JSON object"),
        ({"nodes": []}, "Missing key target"),
        ({"target": "2025-03-14"}, "Missing key nodes"),
        ({"target": "14.03.2025", "nodes": []}, "target must be a date (YYYY-MM-DD)"),
        ({"target": "2025-02-30", "nodes": []}, "target must be a date"),
        ({"target": "2025-03-14", "nodes": {}}, "nodes must be a list"),
        ({"target": "2025-03-14", "nodes": [{"id": "a"}]}, "Missing key duration. (node 'a')"),
        (
            {"target": "2025-03-14", "nodes": [{"id": "a", "duration": "3"}]},
            "duration must be a whole number",
        ),
        (
            {"target": "2025-03-14", "nodes": [{"id": "a", "duration": 1.5}]},
            "duration must be a whole number",
        ),
        (
            {"target": "2025-03-14", "nodes": [{"id": 7, "duration": 1}]},
            "Node id must be a non-empty string",
        ),
        (
            {"target": "2025-03-14", "nodes": [{"id": "a", "duration": 1, "depend": []}]},
            "Unknown key 'depend'",
        ),
        (
            {
                "target": "2025-03-14",
                "nodes": [{"id": "a", "duration": 1, "depends": [{"id": "b"}]}],
            },
            "Unknown predecessor 'b'. (node 'a')",
        ),
        (
            {
                "target": "2025-03-14",
                "nodes": [{"id": "a", "duration": 1, "depends": [{"id": "a"}]}],
            },
            "Dependencies form a cycle. (node 'a')",
        ),
        (
            {
                "target": "2025-03-14",
                "nodes": [{"id": "a", "duration": 1}, {"id": "a", "duration": 1}],
            },
            "Duplicate node id. (node 'a')",
        ),
        (
            {"target": "2025-03-14", "nodes": [{"id": "a", "duration": -2}]},
            "Duration must not be negative.",
        ),
        (
            {
                "target": "2025-03-14",
                "nodes": [{"id": "a", "duration": 1}],
                "calendar": {"off": ["2025-03-03"], "on": ["2025-03-03"]},
            },
            "Invalid calendar: 2025-03-03 is in both extra_off and extra_on.",
        ),
        (
            {"target": "2200-01-01", "nodes": [{"id": "a", "duration": 1}]},
            "outside the working-day calendar",
        ),
    ],
)
def test_bad_input_is_one_line_on_stderr(tmp_path, data, message):
    result = run(tmp_path, data)
    assert result.exit_code != 0
    assert result.stdout == ""
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert isinstance(result.exception, SystemExit)  # a clean exit, not an uncaught exception


def test_actual_date_after_today_is_refused(tmp_path):
    plan = {
        "target": "2025-03-14",
        "nodes": [{"id": "a", "duration": 1, "actual_start": "2025-03-10"}],
    }
    result = run(tmp_path, plan, "--today", "2025-03-05")
    assert result.exit_code != 0
    assert "Actual date is in the future. (node 'a')" in result.stderr


def test_bad_today_and_missing_file_are_usage_errors(tmp_path):
    result = run(tmp_path, PLAN, "--today", "tomorrow")
    assert result.exit_code == 2 and "tomorrow" in result.stderr
    result = CliRunner().invoke(plan_cli, ["schedule", str(tmp_path / "missing.json")])
    assert result.exit_code == 2 and "missing.json" in result.stderr


def test_non_utf8_input(tmp_path):
    path = tmp_path / "plan.json"
    path.write_bytes(b'{"target": "\xff"}')
    result = CliRunner().invoke(plan_cli, ["schedule", str(path)])
    assert result.exit_code != 0 and "not UTF-8" in result.stderr
