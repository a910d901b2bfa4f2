"""The queue jobs wait in: Huey, on a SQLite file by default and on Redis in production.

Why Huey: it is small and well kept, and it has a storage for each setting this application
runs in. The embedded default (`JOBS_QUEUE_URL` unset) is a SQLite file beside the database
under instance/, so `make run` needs no server; an office with several machines sets
`JOBS_QUEUE_URL=redis://…` and runs `flask jobs worker` on as many machines as it likes, all
taking jobs from the one Redis. (RQ and Celery need a Redis or a broker even on a laptop.)

The queue carries only job ids: what a job is, for whom and how it ended is the `jobs` table.
Progress and heartbeats live in the queue's key-value storage: a batch holds SQLite's write lock
while it numbers its documents, and a progress row in the database would wait behind it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab
from huey.api import Huey
from huey.constants import EmptyData

EXTENSION_KEY = "resettle.jobs"
TASK_NAME = "resettle.run_job"


def sqlite_queue_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def init_queue(app: Flask) -> Huey:
    """The app's queue, with the one task (run a job by id) and the periodic upkeep."""
    url = app.config.get("JOBS_QUEUE_URL") or ""
    if app.config.get("JOBS_IMMEDIATE"):
        # Tests: a job runs inside the request that submits it, in the same transaction's
        # connection (the worker tests start real workers on a real queue instead).
        huey: Huey = MemoryHuey("resettle", immediate=True, utc=True)
    elif url.startswith(("redis://", "rediss://", "unix://")):
        huey = RedisHuey("resettle", url=url, utc=True)
    elif url.startswith("sqlite:///"):
        path = sqlite_queue_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        huey = SqliteHuey("resettle", filename=str(path), utc=True, timeout=30)
    else:
        raise ValueError(f"JOBS_QUEUE_URL must be sqlite:///<file> or redis://…, not {url!r}")

    from resettle.jobs.services import recover_stale_jobs, remove_expired_files, run_job

    def run(job_id: int) -> None:
        run_job(app, job_id)

    def upkeep() -> None:
        with app.app_context():
            recover_stale_jobs()
            remove_expired_files()

    task = huey.task(name=TASK_NAME)(run)
    huey.periodic_task(crontab(minute="*"), name="resettle.jobs_upkeep")(upkeep)
    app.extensions[EXTENSION_KEY] = (huey, task)
    return huey


def queue(app: Flask | None = None) -> Huey:
    return (app or current_app).extensions[EXTENSION_KEY][0]


def enqueue(job_id: int) -> None:
    """Put a committed job on the queue (in tests: run it now)."""
    current_app.extensions[EXTENSION_KEY][1](job_id)


# --- progress and heartbeat ------------------------------------------------------------------


def _key(job_id: int) -> str:
    return f"resettle:job-progress:{job_id}"


def put_progress(job_id: int, done: int, total: int, huey: Huey | None = None) -> None:
    """How far a running job has got, and that it is alive now."""
    data = json.dumps({"done": done, "total": total, "at": time.time()}).encode()
    (huey or queue()).storage.put_data(_key(job_id), data)


def read_progress(job_id: int, huey: Huey | None = None) -> dict[str, Any] | None:
    """{"done", "total", "at"} of a running job, or None when it has reported nothing."""
    raw = (huey or queue()).storage.peek_data(_key(job_id))
    if raw is EmptyData or raw is None:
        return None
    try:
        return json.loads(raw)
    except (TypeError, ValueError):
        return None


def clear_progress(job_id: int, huey: Huey | None = None) -> None:
    (huey or queue()).storage.pop_data(_key(job_id))
