"""Benchmark: long work under gunicorn as production runs it (`-w 2 -k sync`, 30 s timeout)
with one `flask jobs worker`: a batch of 2,000 signing reminders and three overdue PDFs of
2,500 rows requested at once through the web, while someone keeps loading the household list.
On SQLite and, when BENCH_DATABASE_URL is set, on PostgreSQL. Targets: every job done, every
request that starts one answered within 2 s, the household list never failing and its 95th
percentile under 1 s meanwhile.

Run from the repo root: `python bench/bench_jobs_load.py` (or `make bench`).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

NOTICES = int(os.environ.get("BENCH_LOAD_NOTICES", "2000"))
HOUSEHOLDS = int(os.environ.get("BENCH_LOAD_HOUSEHOLDS", "2500"))


def measure(label: str, database_url: str | None, folder: Path) -> bool:
    from tests.jobs.load import make_load_world, run_load

    if database_url:
        os.environ["TEST_DATABASE_URL"] = database_url
    else:
        os.environ.pop("TEST_DATABASE_URL", None)
    world = make_load_world(folder, HOUSEHOLDS)
    world.start()
    try:
        result = run_load(world, notices=NOTICES)
    finally:
        world.stop()
    states = {name: s["state"] for name, s in result.finished.items()}
    lat = sorted(result.list_latencies)
    p95 = lat[int(len(lat) * 0.95)]
    ok = (
        len(states) == 4
        and set(states.values()) == {"done"}
        and max(result.submit_seconds.values()) < 2
        and not result.list_errors
        and p95 < 1
    )
    print(f"{label}: {NOTICES} reminders + 3 overdue PDFs of {HOUSEHOLDS} rows: {result.summary()}")
    print(f"{label}: {'OK' if ok else 'MISSED'} (target: all done, starts < 2 s, list p95 < 1 s)")
    return ok


def main() -> int:
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        ok &= measure("SQLite", None, Path(tmp) / "sqlite")
        pg = os.environ.get("BENCH_DATABASE_URL")
        if pg:
            ok &= measure("PostgreSQL", pg, Path(tmp) / "pg")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
