"""Progress a job reports reaches its page, also from a thread outside the app context (the
renderer's callbacks run in its pool's thread)."""

from __future__ import annotations

import threading

from resettle.extensions import db
from resettle.jobs.models import Job, JobState
from resettle.jobs.queue import read_progress
from resettle.jobs.services import JobContext


def test_progress_from_another_thread_is_kept_and_never_goes_back(make_user):
    user = make_user()
    job = Job(token="f" * 32, kind="notice_batch", title="批量", user_id=user.id, params={})
    job.state = JobState.RUNNING
    job.total = 60
    db.session.add(job)
    db.session.flush()
    context = JobContext(job, user)
    failures: list[BaseException] = []

    def renderer_callback() -> None:
        try:
            context.progress(45)
            context.progress(30)  # a late report of an earlier stage
        except BaseException as exc:  # noqa: BLE001  (the pool's thread would swallow it)
            failures.append(exc)

    thread = threading.Thread(target=renderer_callback)
    thread.start()
    thread.join()
    assert failures == []
    assert read_progress(job.id)["done"] == 45
    context.progress(60)
    assert read_progress(job.id) | {"at": 0} == {"done": 60, "total": 60, "at": 0}
