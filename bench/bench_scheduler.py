"""Benchmark: back-schedule and forecast a random 2,000-node plan; target 50 ms for both passes.

Run from the repository root: ``python bench/bench_scheduler.py [--nodes N] [--runs R] [--seed S]``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from resettle.calendar import WorkCalendar  # noqa: E402
from resettle.scheduling import Dependency, Node, schedule  # noqa: E402

TARGET_MS = 50.0
CALENDAR_TARGET_MS = 150.0


def random_plan(count: int, seed: int, today: date) -> list[Node]:
    """A random DAG: about 3 predecessors per node, durations 0-30, lags 0-5, early nodes done."""
    rng = random.Random(seed)
    nodes = []
    finished: dict[int, date] = {}
    for i in range(count):
        preds = rng.sample(range(i), min(i, 3))
        depends = tuple(Dependency(f"n{p}", rng.randint(0, 5)) for p in preds)
        actual_start = actual_finish = None
        if i < count // 20 and all(p in finished for p in preds):
            # the first 5 % of nodes whose predecessors are done: started, and most of them finished
            actual_start = max((finished[p] for p in preds), default=today - timedelta(days=200))
            actual_start += timedelta(days=rng.randint(1, 5))
            end = actual_start + timedelta(days=rng.randint(0, 20))
            if actual_start <= today and end <= today and rng.random() < 0.8:
                actual_finish = finished[i] = end
            elif actual_start > today:
                actual_start = None
        nodes.append(Node(f"n{i}", rng.randint(0, 30), depends, actual_start, actual_finish))
    rng.shuffle(nodes)
    return nodes


def median_ms(function, runs: int) -> float:
    """Median wall time of function() over runs calls, in milliseconds."""
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def main() -> int:
    """Print calendar and scheduling times; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--seed", type=int, default=20250314)
    args = parser.parse_args()

    calendar_ms = median_ms(
        lambda: WorkCalendar(
            extra_off=[date(2025, 3, 3)], official_years={2027: ([date(2027, 10, 1)], [])}
        ),
        args.runs,
    )
    calendar = WorkCalendar()
    today = date(2025, 6, 2)
    target = date(2032, 12, 31)
    nodes = random_plan(args.nodes, args.seed, today)
    edges = sum(len(node.depends) for node in nodes)

    result = schedule(nodes, target, calendar, today=today)
    backward_ms = median_ms(lambda: schedule(nodes, target, calendar), args.runs)
    both_ms = median_ms(lambda: schedule(nodes, target, calendar, today=today), args.runs)

    starts = min(r.start for r in result.values())
    critical = sum(1 for r in result.values() if r.critical)
    done = sum(1 for n in nodes if n.actual_finish)
    started = sum(1 for n in nodes if n.actual_start and not n.actual_finish)
    verdict = "PASS" if both_ms < TARGET_MS else "FAIL"
    calendar_verdict = "PASS" if calendar_ms < CALENDAR_TARGET_MS else "FAIL"
    print(
        f"plan: {len(nodes)} nodes, {edges} dependencies, seed {args.seed}, target {target}, today {today}"
    )
    print(
        f"{done} finished, {started} started; earliest deadline start {starts}; {critical} critical nodes"
    )
    print(
        f"calendar construction: {calendar_ms:.1f} ms median (target {CALENDAR_TARGET_MS:.0f} ms) {calendar_verdict}"
    )
    print(f"backward pass only:    {backward_ms:.1f} ms median of {args.runs}")
    print(
        f"backward + forward:    {both_ms:.1f} ms median of {args.runs} (target {TARGET_MS:.0f} ms) {verdict}"
    )
    return 0 if verdict == calendar_verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
