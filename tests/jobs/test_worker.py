"""Jobs on real `flask jobs worker` processes: progress, failure, one run per job, scope."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from resettle.documents.models import ArchivedDocument
from resettle.extensions import db
from resettle.jobs.models import Job
from resettle.jobs.queue import enqueue
from resettle.notices.models import Notice
from tests.jobs.worker import JobWorld, make_world, wait_for

pytestmark = pytest.mark.no_transaction


@pytest.fixture
def world(tmp_path) -> Iterator[JobWorld]:
    world = make_world(tmp_path)
    yield world
    world.stop_workers()
    with world.app.app_context():
        db.engine.dispose()


def _batch(client, world: JobWorld, household_ids: list[int], project_id: int | None = None):
    response = client.post(
        "/notices/batch",
        data={
            "project": project_id or world.project_id,
            "type": "signing",
            "household": household_ids,
            "deadline": (date.today() + timedelta(days=30)).isoformat(),
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return response.headers["Location"]


def _numbers(world: JobWorld) -> list[int]:
    with world.app.app_context():
        numbers = list(db.session.scalars(sa.select(Notice.sequence).order_by(Notice.sequence)))
        db.session.remove()
    return numbers


def test_a_batch_runs_to_done_on_a_worker_with_progress_a_person_sees(world):
    world.start_worker()
    client = world.client("jobs.all")
    location = _batch(client, world, world.household_ids)
    page = client.get(location).get_data(as_text=True)
    assert 'http-equiv="refresh"' in page  # refreshes itself without JavaScript
    seen = wait_for(client, location)
    assert seen[-1]["state"] == "done", (seen[-1], world.worker_log()[-3000:])
    assert (seen[-1]["done"], seen[-1]["total"]) == (60, 60)
    assert any(s["state"] == "running" and 0 < s["done"] < 60 for s in seen), [
        (s["state"], s["done"], s["_asked"], s["_took"])
        for s in seen
        if s["_took"] > 0.3 or s["state"] != "queued"
    ]
    assert [s["done"] for s in seen] == sorted(s["done"] for s in seen)  # never goes back
    assert _numbers(world) == list(range(1, 61))  # consecutive, without gaps
    result = client.get(seen[-1]["result"])
    assert result.status_code == 200
    with world.app.app_context():
        document = db.session.scalar(sa.select(ArchivedDocument))
        assert document.notice_count == 60
        db.session.remove()
    page = client.get(location).get_data(as_text=True)
    assert 'http-equiv="refresh"' not in page and seen[-1]["result"] in page
    listing = client.get("/jobs/").get_data(as_text=True)
    assert location.rsplit("/", 1)[-1] in listing


def test_a_failing_job_shows_its_message_and_issues_nothing(world):
    world.start_worker()
    client = world.client("jobs.all")
    location = _batch(client, world, [world.household_ids[0], world.signed_id])
    seen = wait_for(client, location)
    assert seen[-1]["state"] == "failed"
    assert world.signed_case in seen[-1]["message"] and "签约" in seen[-1]["message"]
    assert seen[-1]["result"] is None
    assert _numbers(world) == []
    page = client.get(location).get_data(as_text=True)
    assert world.signed_case in page and "失败" in page


def test_two_workers_never_run_the_same_job(world):
    world.start_worker()
    world.start_worker()
    client = world.client("jobs.all")
    locations = [_batch(client, world, [household]) for household in world.household_ids[:8]]
    with world.app.app_context():
        # The same job handed out again (a queue may deliver twice): it still runs once.
        for location in locations[:4]:
            token = location.rsplit("/", 1)[-1]
            enqueue(db.session.scalar(sa.select(Job.id).where(Job.token == token)))
        db.session.remove()
    for location in locations:
        assert wait_for(client, location)[-1]["state"] == "done"
    time.sleep(1.5)  # the doubles are taken and dropped
    with world.app.app_context():
        jobs = db.session.scalars(sa.select(Job)).all()
        assert [job.attempts for job in jobs] == [1] * 8
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ArchivedDocument)) == 8
        db.session.remove()
    assert _numbers(world) == list(range(1, 9))


def test_a_job_is_refused_to_an_account_of_another_project(world):
    world.start_worker()
    owner = world.client("jobs.all")
    location = _batch(owner, world, world.household_ids[:2])
    done = wait_for(owner, location)[-1]
    assert done["state"] == "done"
    listing = owner.post("/supervision/overdue.xlsx", data={"project": world.project_id})
    made = wait_for(owner, listing.headers["Location"])[-1]
    assert made["state"] == "done" and made["result"].endswith("/file")
    assert owner.get(made["result"]).status_code == 200
    stranger = world.client("jobs.other")
    assert stranger.get(made["result"]).status_code == 404  # the file, by its address
    assert stranger.get(listing.headers["Location"]).status_code == 404
    assert stranger.get(location).status_code == 404
    assert stranger.get(location, headers={"Accept": "application/json"}).status_code == 404
    with world.app.app_context():
        document_id = db.session.scalar(sa.select(ArchivedDocument.id))
        db.session.remove()
    assert owner.get(f"/notices/documents/{document_id}/pdf").status_code == 200
    assert stranger.get(f"/notices/documents/{document_id}/pdf").status_code == 404
    assert location.rsplit("/", 1)[-1] not in stranger.get("/jobs/").get_data(as_text=True)


def test_a_killed_worker_s_job_is_run_again_without_numbering_twice(world):
    import os
    import signal

    first = world.start_worker(stale_seconds=3)
    client = world.client("jobs.all")
    location = _batch(client, world, world.household_ids)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = client.get(location, headers={"Accept": "application/json"}).json
        if status["state"] == "running":
            break
        time.sleep(0.05)
    time.sleep(1.0)  # checking the households, numbering, rendering
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    assert _numbers(world) == []  # its transaction went with it
    time.sleep(3.5)  # its heartbeat stops; a starting worker then puts the job back at once
    world.start_worker(stale_seconds=3)
    seen = wait_for(client, location, timeout=180)
    assert seen[-1]["state"] == "done", (seen[-1], world.worker_log()[-3000:])
    assert _numbers(world) == list(range(1, 61))
    with world.app.app_context():
        assert db.session.scalar(sa.select(Job.attempts)) == 2
        db.session.remove()
