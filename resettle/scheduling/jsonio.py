"""The JSON contract of the scheduler (used by `flask plan schedule` and by tests).

Input::

    {"target": "YYYY-MM-DD",
     "nodes": [{"id": "...", "duration": N,
                "depends": [{"id": "...", "lag": L}],          # optional; lag optional, 0
                "actual_start": "YYYY-MM-DD",                  # optional (or null)
                "actual_finish": "YYYY-MM-DD"}],               # optional (or null)
     "calendar": {"off": ["YYYY-MM-DD", ...],                  # optional: local days off
                  "on": ["YYYY-MM-DD", ...],                   # optional: extra working days
                  "official": {"2027": {"off": [...], "on": [...]}}}}  # optional: published years

Output: ``{"nodes": {"<id>": {"start", "finish", "provisional", "forecast_provisional"}}}``
with dates as YYYY-MM-DD (``forecast_provisional``: the forecast counts through or lies in a
year without holiday data; false without ``today``, when there is no forecast);
with ``today`` each node also has ``forecast_start``, ``forecast_finish``, ``slip`` (working
days, positive = late) and ``critical``. Unknown keys are refused so that typos do not pass
silently. Every input error is a SchedulingError.
"""

from __future__ import annotations

import contextlib
import re
from datetime import date
from typing import Any

from resettle.calendar import WorkCalendar, china_calendar
from resettle.scheduling.core import Dependency, Node, SchedulingError, schedule

__all__ = ["schedule_from_json"]

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NODE_KEYS = frozenset({"id", "duration", "depends", "actual_start", "actual_finish"})
_DEPENDENCY_KEYS = frozenset({"id", "lag"})
_CALENDAR_KEYS = frozenset({"off", "on", "official"})
_TOP_KEYS = frozenset({"target", "nodes", "calendar"})


def _parse_date(value: Any, key: str, node_id: str | None = None) -> date:
    """Parse a YYYY-MM-DD string or raise SchedulingError naming the key."""
    parsed = None
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        with contextlib.suppress(ValueError):  # e.g. 2025-02-30
            parsed = date.fromisoformat(value)
    if parsed is None:
        raise SchedulingError("%(key)s must be a date (YYYY-MM-DD).", node_id, key=key)
    return parsed


def _object(
    value: Any, allowed: frozenset[str], what: str, node_id: str | None = None
) -> dict[str, Any]:
    """Check value is a JSON object with only allowed keys."""
    if not isinstance(value, dict):
        raise SchedulingError("%(what)s must be a JSON object.", node_id, what=what)
    for key in value:
        if key not in allowed:
            raise SchedulingError(
                "Unknown key %(key)s in %(what)s.", node_id, key=repr(key), what=what
            )
    return value


def _list(value: Any, key: str, node_id: str | None = None) -> list[Any]:
    """Check value is a JSON array."""
    if not isinstance(value, list):
        raise SchedulingError("%(key)s must be a list.", node_id, key=key)
    return value


def _whole_number(value: Any, key: str, node_id: str) -> int:
    """Check value is a JSON integer (not a float, not a boolean)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise SchedulingError("%(key)s must be a whole number.", node_id, key=key)
    return value


def _parse_calendar(data: Any) -> WorkCalendar:
    """The China calendar with the input's local days and official years applied."""
    if data is None:
        return china_calendar()
    section = _object(data, _CALENDAR_KEYS, "calendar")
    off = [_parse_date(v, "calendar.off") for v in _list(section.get("off", []), "calendar.off")]
    on = [_parse_date(v, "calendar.on") for v in _list(section.get("on", []), "calendar.on")]
    official: dict[int, tuple[list[date], list[date]]] = {}
    years = section.get("official", {})
    if not isinstance(years, dict):
        raise SchedulingError("%(what)s must be a JSON object.", what="calendar.official")
    for year_text, year_data in years.items():
        if not (isinstance(year_text, str) and year_text.isdigit() and len(year_text) == 4):
            raise SchedulingError("calendar.official keys must be years (YYYY).")
        key = f"calendar.official.{year_text}"
        year_section = _object(year_data, frozenset({"off", "on"}), key)
        official[int(year_text)] = (
            [
                _parse_date(v, f"{key}.off")
                for v in _list(year_section.get("off", []), f"{key}.off")
            ],
            [_parse_date(v, f"{key}.on") for v in _list(year_section.get("on", []), f"{key}.on")],
        )
    if not (off or on or official):
        return china_calendar()
    try:
        return WorkCalendar(off, on, official)
    except ValueError as error:
        raise SchedulingError("Invalid calendar: %(detail)s.", detail=str(error)) from None


def _parse_node(data: Any) -> Node:
    """One node of the input."""
    node = _object(data, _NODE_KEYS, "node")
    node_id = node.get("id")
    if not isinstance(node_id, str) or not node_id:
        raise SchedulingError("Node id must be a non-empty string.")
    if "duration" not in node:
        raise SchedulingError("Missing key %(key)s.", node_id, key="duration")
    duration = _whole_number(node["duration"], "duration", node_id)
    depends = []
    for item in _list(node.get("depends", []), "depends", node_id):
        dependency = _object(item, _DEPENDENCY_KEYS, "depends", node_id)
        predecessor = dependency.get("id")
        if not isinstance(predecessor, str) or not predecessor:
            raise SchedulingError("Predecessor id must be a non-empty string.", node_id)
        lag = _whole_number(dependency.get("lag", 0), "lag", node_id)
        depends.append(Dependency(predecessor, lag))
    actuals = {
        key: _parse_date(node[key], key, node_id)
        for key in ("actual_start", "actual_finish")
        if node.get(key) is not None
    }
    return Node(node_id, duration, tuple(depends), **actuals)


def schedule_from_json(data: dict[str, Any], today: date | None = None) -> dict[str, Any]:
    """Schedule a plan given as parsed JSON and return the JSON-ready result."""
    _object(data, _TOP_KEYS, "input")
    for key in ("target", "nodes"):
        if key not in data:
            raise SchedulingError("Missing key %(key)s.", key=key)
    target = _parse_date(data["target"], "target")
    nodes = [_parse_node(item) for item in _list(data["nodes"], "nodes")]
    calendar = _parse_calendar(data.get("calendar"))
    results = schedule(nodes, target, calendar, today)
    output: dict[str, dict[str, Any]] = {}
    for node_id, result in results.items():
        entry: dict[str, Any] = {
            "start": result.start.isoformat(),
            "finish": result.finish.isoformat(),
            "provisional": result.provisional,
            "forecast_provisional": result.forecast_provisional,
        }
        if result.forecast_start is not None and result.forecast_finish is not None:
            entry["forecast_start"] = result.forecast_start.isoformat()
            entry["forecast_finish"] = result.forecast_finish.isoformat()
            entry["slip"] = result.slip
            entry["critical"] = result.critical
        output[node_id] = entry
    return {"nodes": output}
