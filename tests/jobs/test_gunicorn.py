"""Under gunicorn as production runs it (two sync workers, 30 s timeout), a notice batch and
three overdue PDFs requested at once all finish through a job worker, and the household list
keeps answering meanwhile. At full size (2,000 reminders, three 2,500-row PDFs: several minutes
on two cores) the same run is `bench/bench_jobs_load.py`; here it is a fifth of that, so that
`make test` stays under its budget on both databases."""

from __future__ import annotations

import pytest

from tests.jobs.load import Browser, make_load_world, run_load

pytestmark = pytest.mark.no_transaction

NOTICES = 400
HOUSEHOLDS = 500  # each one an overdue signing step: a 500-row list (and its plan node)


def test_long_work_finishes_while_the_household_list_keeps_answering(tmp_path):
    world = make_load_world(tmp_path, HOUSEHOLDS)
    world.start()
    try:
        result = run_load(world, notices=NOTICES)
        print(result.summary())
        assert set(result.finished) == {"batch", "overdue PDF 1", "overdue PDF 2", "overdue PDF 3"}
        assert {s["state"] for s in result.finished.values()} == {"done"}, (
            result.finished,
            world.logs(),
        )
        assert result.finished["batch"]["done"] == NOTICES
        assert all(s["total"] >= HOUSEHOLDS for n, s in result.finished.items() if n != "batch")
        assert max(result.submit_seconds.values()) < 5  # answered at once, not after the work
        assert result.list_errors == [] and max(result.list_latencies) < 5
        browser = Browser(world.base_url)
        browser.log_in()
        status, headers, body = browser.request(
            result.finished["overdue PDF 1"]["result"].replace(world.base_url, "")
        )
        assert status == 200 and headers["Content-Type"] == "application/pdf"
        assert body.startswith(b"%PDF")
    finally:
        world.stop()
