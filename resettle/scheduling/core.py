"""Back-scheduling (倒排工期) and forecasting of a plan on working days.

Semantics (DOMAIN.md, "Back-scheduling"), on working-day *positions* of a WorkCalendar:

- A node of duration d >= 1 occupies d working days, start and finish inclusive:
  finish = start + (d - 1); a 1-day node starts and finishes on the same day.
- A milestone (d = 0) has start = finish = the working day it falls on. It is treated like
  any other node in dependencies: it sits on a working day, so
- finish-to-start with lag L >= 0 means successor.start >= predecessor.finish + L + 1, for
  every kind of node alike: a milestone after a task finishing on F (lag 0) falls on the
  working day after F, and a node after a milestone M starts on the working day after M at
  the earliest. A chain of milestones therefore advances one working day per link.
- Backward pass (ALAP, the deadlines): every sink (node without successors) finishes on the
  last working day on or before the target; every other node finishes on
  min(successor.start - lag - 1) over its successors. Actual dates play no part.
- Forward pass (forecast, only when ``today`` is given; T0 = first working day on or after
  today):
  * actual_finish recorded: the forecast is the actual dates (a non-working actual finish
    counts as the working day before it; without actual_start the start is taken as
    d - 1 working days before the finish);
  * actual_start only: finish = max(start + d - 1, T0), predecessors no longer matter
    (a non-working actual start counts from the next working day);
  * no actuals: start = max(T0, predecessor.finish + lag + 1 over all predecessors),
    finish = start + max(d - 1, 0).
- slip = workdays_between(deadline finish, forecast finish) (positive = late);
  slack = deadline finish - forecast finish = -slip (CPM total float with the late dates
  taken from the target, so it can be negative).
- critical: the node is not finished (no actual_finish) and its slack equals the least
  slack over all unfinished nodes; finished nodes are never critical. Without actual dates
  these nodes form the chains of least (zero when the plan just fits) slack from today to a
  sink: the critical path that decides whether the target is met.
- provisional: a node is provisional when any year from the earliest to the latest of its
  deadline start, the target and, with ``today``, today and its forecast start and finish, is
  provisional in the calendar (no official holiday data). That span contains every date the
  node's dates were computed from or stepped through.
- forecast_provisional: the forecast alone, by the same rule (``provisional_span``): any year
  from the earlier of today and the forecast start to the forecast finish is provisional, the
  span the forward pass counted working days through. A finished node's forecast is its
  recorded actual dates and never provisional; without ``today`` there is no forecast (False).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from resettle.calendar import WorkCalendar

__all__ = [
    "Dependency",
    "Node",
    "ScheduleResult",
    "SchedulingError",
    "provisional_span",
    "schedule",
]


class SchedulingError(ValueError):
    """Invalid plan input; message is an English message id, node_id the node concerned."""

    def __init__(self, message: str, node_id: str | None = None, **params: object) -> None:
        """Keep the untranslated message, the node concerned and the message parameters."""
        self.message = message
        self.node_id = node_id
        self.params = params
        super().__init__(str(self))

    def __str__(self) -> str:
        """The message with its parameters filled in and the node named."""
        text = self.message % self.params if self.params else self.message
        return text if self.node_id is None else f"{text} (node {self.node_id!r})"


@dataclass(frozen=True, slots=True)
class Dependency:
    """Finish-to-start link from a predecessor, with a lag in working days."""

    predecessor: str
    lag: int = 0


@dataclass(frozen=True, slots=True)
class Node:
    """A plan node: duration in working days (0 = milestone), predecessors, actual dates."""

    id: str
    duration: int
    depends: Sequence[Dependency] = ()
    actual_start: date | None = None
    actual_finish: date | None = None


@dataclass(frozen=True, slots=True)
class ScheduleResult:
    """Deadlines of one node and, when today was given, its forecast, slip and criticality."""

    id: str
    start: date
    finish: date
    provisional: bool
    forecast_start: date | None = None
    forecast_finish: date | None = None
    slip: int | None = None
    slack: int | None = None
    critical: bool | None = None
    forecast_provisional: bool = False


def provisional_span(calendar: WorkCalendar, *dates: date) -> bool:
    """Whether dates computed by counting working days across these dates (or lying on one of
    them) are provisional (暂定): some year from the earliest to the latest has no official data.
    The one rule for deadlines and forecasts alike."""
    return calendar.touches_provisional(min(dates), max(dates))


def _is_int(value: object) -> bool:
    """True for a real int (bool excluded)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _check_date(value: object, message: str, node_id: str | None = None) -> date:
    """Return value as a date or raise SchedulingError(message)."""
    if isinstance(value, datetime):
        return value.date()
    if not isinstance(value, date):
        raise SchedulingError(message, node_id)
    return value


def _topological_order(
    preds: list[list[tuple[int, int]]], succs: list[list[tuple[int, int]]], ids: list[str]
) -> list[int]:
    """Kahn's order of node indices; SchedulingError naming a node on a cycle if there is one."""
    missing = [len(p) for p in preds]
    ready = [i for i, count in enumerate(missing) if count == 0]
    order: list[int] = []
    while ready:
        i = ready.pop()
        order.append(i)
        for j, _lag in succs[i]:
            missing[j] -= 1
            if missing[j] == 0:
                ready.append(j)
    if len(order) < len(ids):
        # Every node left has a predecessor that is left too: walk them until one repeats.
        seen: set[int] = set()
        i = next(k for k, count in enumerate(missing) if count > 0)
        while i not in seen:
            seen.add(i)
            i = next(p for p, _lag in preds[i] if missing[p] > 0)
        raise SchedulingError("Dependencies form a cycle.", ids[i])
    return order


def schedule(
    nodes: Iterable[Node],
    target: date,
    calendar: WorkCalendar,
    today: date | None = None,
) -> dict[str, ScheduleResult]:
    """Deadlines (backward pass) and, given today, forecasts (forward pass), keyed by node id in input order."""
    nodes = list(nodes)
    target = _check_date(target, "Target date is not a date.")
    if today is not None:
        today = _check_date(today, "Today is not a date.")
    first_day, last_day = calendar.covered_range

    def position(day: date, on_or_before: bool, node_id: str | None) -> int:
        """Working-day position of day, or SchedulingError when outside the calendar."""
        try:
            if on_or_before:
                return calendar.position_on_or_before(day)
            return calendar.position_on_or_after(day)
        except ValueError:
            raise SchedulingError(
                "Date %(date)s is outside the working-day calendar (%(first)s to %(last)s).",
                node_id,
                date=day.isoformat(),
                first=first_day.isoformat(),
                last=last_day.isoformat(),
            ) from None

    # -- validate and index ---------------------------------------------------------------
    ids: list[str] = []
    index: dict[str, int] = {}
    spans: list[int] = []  # working days from start to finish: max(duration - 1, 0)
    actual_starts: list[date | None] = []
    actual_finishes: list[date | None] = []
    for node in nodes:
        if not isinstance(node, Node):
            raise SchedulingError("Plan node is not a Node.")
        node_id = node.id
        if not isinstance(node_id, str) or not node_id:
            raise SchedulingError("Node id must be a non-empty string.")
        if node_id in index:
            raise SchedulingError("Duplicate node id.", node_id)
        if not _is_int(node.duration):
            raise SchedulingError("Duration must be a whole number of working days.", node_id)
        if node.duration < 0:
            raise SchedulingError("Duration must not be negative.", node_id)
        actual_start = node.actual_start
        actual_finish = node.actual_finish
        if actual_start is not None:
            actual_start = _check_date(actual_start, "Actual start is not a date.", node_id)
        if actual_finish is not None:
            actual_finish = _check_date(actual_finish, "Actual finish is not a date.", node_id)
        if actual_start is not None and actual_finish is not None and actual_finish < actual_start:
            raise SchedulingError("Actual finish is before actual start.", node_id)
        if today is not None:
            for actual in (actual_start, actual_finish):
                if actual is not None and actual > today:
                    raise SchedulingError("Actual date is in the future.", node_id)
        index[node_id] = len(ids)
        ids.append(node_id)
        spans.append(node.duration - 1 if node.duration > 0 else 0)
        actual_starts.append(actual_start)
        actual_finishes.append(actual_finish)

    count = len(ids)
    preds: list[list[tuple[int, int]]] = [[] for _ in range(count)]
    succs: list[list[tuple[int, int]]] = [[] for _ in range(count)]
    for j, node in enumerate(nodes):
        for dependency in node.depends:
            if not isinstance(dependency, Dependency):
                raise SchedulingError("Dependency is not a Dependency.", node.id)
            i = index.get(dependency.predecessor)
            if i is None:
                raise SchedulingError(
                    "Unknown predecessor %(predecessor)s.",
                    node.id,
                    predecessor=repr(dependency.predecessor),
                )
            lag = dependency.lag
            if not _is_int(lag):
                raise SchedulingError("Lag must be a whole number of working days.", node.id)
            if lag < 0:
                raise SchedulingError("Lag must not be negative.", node.id)
            preds[j].append((i, lag))
            succs[i].append((j, lag))

    order = _topological_order(preds, succs, ids)

    # -- backward pass: latest finish (deadline) of every node ------------------------------
    sink_finish = position(target, True, None)
    late_start = [0] * count
    late_finish = [0] * count
    for i in reversed(order):
        finish = sink_finish
        for j, lag in succs[i]:
            bound = late_start[j] - lag - 1
            if bound < finish:
                finish = bound
        late_finish[i] = finish
        late_start[i] = finish - spans[i]
    if count and min(late_start) < 0:
        worst = min(range(count), key=late_start.__getitem__)
        raise SchedulingError(
            "Plan starts before the working-day calendar (%(first)s).",
            ids[worst],
            first=first_day.isoformat(),
        )
    date_at = calendar.date_at
    starts = [date_at(p) for p in late_start]
    finishes = [date_at(p) for p in late_finish]

    if today is None:
        return {
            node_id: ScheduleResult(
                node_id, starts[i], finishes[i], provisional_span(calendar, starts[i], target)
            )
            for i, node_id in enumerate(ids)
        }

    # -- forward pass: forecast from actual dates and today --------------------------------
    today_start = position(today, False, None)
    early_finish = [0] * count
    forecast_starts: list[date | None] = [None] * count  # set where actual dates decide
    for i in order:
        actual_start, actual_finish = actual_starts[i], actual_finishes[i]
        if actual_finish is not None:
            finish = position(actual_finish, True, ids[i])
            if actual_start is None:
                if finish - spans[i] < 0:
                    raise SchedulingError(
                        "Plan starts before the working-day calendar (%(first)s).",
                        ids[i],
                        first=first_day.isoformat(),
                    )
                actual_start = date_at(finish - spans[i])
            forecast_starts[i] = actual_start
        elif actual_start is not None:
            finish = max(position(actual_start, False, ids[i]) + spans[i], today_start)
            forecast_starts[i] = actual_start
        else:
            start = today_start
            for p, lag in preds[i]:
                bound = early_finish[p] + lag + 1
                if bound > start:
                    start = bound
            finish = start + spans[i]
        early_finish[i] = finish
    if count and max(early_finish) >= calendar.workday_count:
        worst = max(range(count), key=early_finish.__getitem__)
        raise SchedulingError(
            "Forecast runs past the working-day calendar (%(last)s).",
            ids[worst],
            last=last_day.isoformat(),
        )

    slack = [late_finish[i] - early_finish[i] for i in range(count)]
    open_slack = [slack[i] for i in range(count) if actual_finishes[i] is None]
    least_slack = min(open_slack) if open_slack else None
    results: dict[str, ScheduleResult] = {}
    for i, node_id in enumerate(ids):
        finished = actual_finishes[i]
        forecast_finish = finished if finished is not None else date_at(early_finish[i])
        forecast_start = forecast_starts[i]
        if forecast_start is None:
            forecast_start = date_at(early_finish[i] - spans[i])
        results[node_id] = ScheduleResult(
            node_id,
            starts[i],
            finishes[i],
            provisional_span(calendar, today, target, starts[i], forecast_start, forecast_finish),
            forecast_start=forecast_start,
            forecast_finish=forecast_finish,
            slip=-slack[i],
            slack=slack[i],
            critical=finished is None and slack[i] == least_slack,
            forecast_provisional=finished is None
            and provisional_span(calendar, today, forecast_start, forecast_finish),
        )
    return results
