"""Submitting, running and finding jobs.

A kind of job is a function registered with `@job_kind(name)` in its domain's `jobs.py`; it
gets a `JobContext` (its parameters, progress, where to put its file) and runs inside one
transaction that also marks the job done, so work and outcome commit together: a worker that
dies mid-job leaves nothing half done, and the job can go back on the queue without numbering
anything twice. A job that fails is marked failed with a message in Chinese; only kinds that
change nothing (exports) are tried again after an error, and only after a database error.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, current_app, has_app_context, redirect, url_for
from sqlalchemy.exc import OperationalError

from resettle.audit.services import acting_as
from resettle.auth.models import User
from resettle.db import utcnow
from resettle.errors import RuleViolation
from resettle.extensions import db
from resettle.jobs.models import Job, JobState
from resettle.jobs.queue import clear_progress, enqueue, put_progress, queue, read_progress
from resettle.projects.scope import scoped_to
from resettle.translate import gettext as _

log = logging.getLogger(__name__)

#: A running job whose worker has not said it is alive for this long has lost its worker.
HEARTBEAT_SECONDS = 10
#: How many times a job is started in all (a lost worker, or a database error of an export).
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class JobKind:
    name: str
    run: Callable[[JobContext], None]
    # Kinds that only read (exports) are run again after a database error; kinds that number
    # or change records are not (their transaction rolled back, so the person may submit again).
    retry_on_error: bool = False
    # The records its file holds, as the audit names a download of it (an export event).
    entity: str = "Job"


KINDS: dict[str, JobKind] = {}


def job_kind(
    name: str, *, retry_on_error: bool = False, entity: str = "Job"
) -> Callable[[Callable], Callable]:
    def register(function: Callable[[JobContext], None]) -> Callable[[JobContext], None]:
        KINDS[name] = JobKind(name, function, retry_on_error, entity)
        return function

    return register


# --- submitting ------------------------------------------------------------------------------


def starts_job(view: Callable) -> Callable:
    """Mark a view whose file is made by a job: it answers 303 to the job, and the job's
    download (jobs.download) is the audited export."""
    view.starts_job = True  # type: ignore[attr-defined]
    return view


def submit_job(
    kind: str,
    *,
    title: str,
    user: User,
    project_id: int | None,
    params: dict[str, Any] | None = None,
    total: int = 0,
) -> Job:
    """Record a job and put it on the queue; commits (the worker must see the row)."""
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    job = Job(
        token=uuid.uuid4().hex,
        kind=kind,
        title=title[:300],
        user_id=user.id,
        project_id=project_id,
        params=params or {},
        total=total,
        state=JobState.QUEUED,
    )
    db.session.add(job)
    db.session.commit()
    job_id = job.id
    enqueue(job_id)
    return db.session.get(Job, job_id) or job


# --- running ---------------------------------------------------------------------------------


class JobContext:
    """What a running job sees: its row, parameters, account, and where its output goes."""

    def __init__(self, job: Job, user: User) -> None:
        self.job = job
        self.job_id = job.id
        self.user = user
        self.params: dict[str, Any] = dict(job.params or {})
        self.project_id = job.project_id
        self._last_report = 0.0
        self._lock = threading.Lock()
        # Progress may come from another thread (a renderer's callback), outside the app
        # context: the queue's storage is taken here, once.
        self._huey = queue()
        self._done = 0
        self._total = job.total

    def progress(self, done: int, total: int | None = None) -> None:
        """Report progress (kept at most every 0.3 s, and always at the end; from any thread,
        and never backwards)."""
        with self._lock:
            if total is not None:
                self._total = total
            done = max(done, self._done)
            self._done = done
            now = time.monotonic()
            if now - self._last_report >= 0.3 or done >= self._total:
                self._last_report = now
                put_progress(self.job_id, done, self._total, self._huey)

    def keep_file(self, data: bytes, filename: str, mimetype: str) -> None:
        """Keep the file the job made (written before the job commits; a job that then fails
        leaves a file no job names, which the upkeep removes)."""
        folder = files_dir()
        folder.mkdir(parents=True, exist_ok=True)
        suffix = Path(filename).suffix[:10]
        path = folder / f"{self.job.token}{suffix}"
        partial = path.with_suffix(path.suffix + ".part")
        partial.write_bytes(data)
        os.replace(partial, path)
        job = self.job
        job.file_path = path.name
        job.file_name = filename[:200]
        job.file_type = mimetype
        job.file_size = len(data)
        job.file_sha256 = hashlib.sha256(data).hexdigest()

    def link(self, endpoint: str, **args: Any) -> None:
        """The job's outcome is a page of the application (an archived batch)."""
        self.job.result = {"endpoint": endpoint, "args": args}

    def say(self, message: str) -> None:
        self.job.message = message

    def finish(self) -> None:
        job = self.job
        job.state = JobState.DONE
        job.done = self._total or self._done
        job.total = self._total or self._done
        job.finished_at = utcnow()
        job.expires_at = job.finished_at + timedelta(hours=keep_hours())


def files_dir(app: Flask | None = None) -> Path:
    return Path((app or current_app).config["JOB_FILES_DIR"])


def keep_hours(app: Flask | None = None) -> int:
    return max(int((app or current_app).config.get("JOB_FILES_KEEP_HOURS", 48)), 24)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}"


def _claim(job_id: int) -> bool:
    """Take a queued job for this worker: one atomic UPDATE, so of two workers handed the same
    id only one runs it."""
    result = db.session.execute(
        sa.update(Job)
        .where(Job.id == job_id, Job.state == JobState.QUEUED)
        .values(
            state=JobState.RUNNING,
            worker=worker_name(),
            started_at=utcnow(),
            attempts=Job.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


@contextmanager
def _heartbeat(job_id: int) -> Iterator[None]:
    """Say every few seconds that the job's worker is alive (also while WeasyPrint renders)."""
    huey = queue()
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(HEARTBEAT_SECONDS):
            progress = read_progress(job_id, huey) or {"done": 0, "total": 0}
            put_progress(job_id, progress["done"], progress["total"], huey)

    put_progress(job_id, 0, 0, huey)
    thread = threading.Thread(target=beat, name=f"heartbeat-{job_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=2)


def run_job(app: Flask, job_id: int) -> None:
    """Run one job (the queue's task). In tests it runs inside the submitting request."""
    if has_app_context():
        _run(job_id)
        return
    with app.app_context():
        try:
            _run(job_id)
        finally:
            db.session.remove()


def _run(job_id: int) -> None:
    if not _claim(job_id):
        return  # another worker has it, or it is finished
    job = db.session.get(Job, job_id)
    assert job is not None
    kind = KINDS.get(job.kind)
    user = db.session.get(User, job.user_id)
    failure: str | None = None
    retry = False
    with _heartbeat(job_id):
        try:
            if kind is None or user is None or not user.is_active:
                raise RuleViolation(
                    _("This job can no longer be run: its account or kind is gone.")
                )
            scope = None if user.sees_every_project else frozenset(user.project_ids)
            if scope is not None and job.project_id is not None and job.project_id not in scope:
                raise RuleViolation(
                    _("The account that started this job no longer sees its project.")
                )
            context = JobContext(job, user)
            with acting_as(user.username, user.id), scoped_to(scope):
                kind.run(context)
                context.finish()
                db.session.commit()
        except RuleViolation as exc:
            db.session.rollback()
            failure = exc.message
        except OperationalError:
            db.session.rollback()
            log.exception("job %s (%s) hit a database error", job_id, getattr(kind, "name", "?"))
            retry = kind is not None and kind.retry_on_error
            failure = _("The database could not be reached or was busy; nothing was saved.")
        except Exception:
            db.session.rollback()
            log.exception("job %s (%s) failed", job_id, getattr(kind, "name", "?"))
            failure = _(
                "The job stopped with an error and nothing was saved; the error is in the "
                "server log. Please try again, or tell the administrator."
            )
    if failure is not None:
        _fail_or_requeue(job_id, failure, retry=retry)
    clear_progress(job_id)


def _fail_or_requeue(job_id: int, message: str, *, retry: bool) -> None:
    job = db.session.get(Job, job_id)
    if job is None:
        return
    if retry and job.attempts < MAX_ATTEMPTS:
        job.state = JobState.QUEUED
        job.message = _("Tried again after: %(message)s", message=message)
        db.session.commit()
        enqueue(job_id)
        return
    job.state = JobState.FAILED
    job.message = message
    job.finished_at = utcnow()
    db.session.commit()


# --- upkeep ----------------------------------------------------------------------------------


def stale_seconds(app: Flask | None = None) -> int:
    return int((app or current_app).config.get("JOB_STALE_SECONDS", 120))


def is_stale(job: Job, now: float | None = None) -> bool:
    """A running job whose worker stopped saying it is alive (killed, machine restarted)."""
    if job.state != JobState.RUNNING:
        return False
    progress = read_progress(job.id)
    last = progress["at"] if progress else (job.started_at or utcnow()).timestamp()
    return (now or time.time()) - last > stale_seconds()


def recover_stale_jobs() -> int:
    """Jobs whose worker died: back on the queue (their transaction rolled back, so nothing of
    theirs was kept), or failed after MAX_ATTEMPTS starts. Returns how many were found."""
    running = db.session.scalars(sa.select(Job).where(Job.state == JobState.RUNNING)).all()
    found = 0
    for job in running:
        if not is_stale(job):
            continue
        stopped = _("The worker running this job stopped (restarted or killed).")
        again = job.attempts < MAX_ATTEMPTS
        # Only the start that went stale: an upkeep on another machine may have put the job
        # back already and a worker taken it again (then `attempts` has moved on).
        changed = db.session.execute(
            sa.update(Job)
            .where(Job.id == job.id, Job.state == JobState.RUNNING, Job.attempts == job.attempts)
            .values(
                state=JobState.QUEUED if again else JobState.FAILED,
                message=_("Tried again after: %(message)s", message=stopped) if again else stopped,
                finished_at=None if again else utcnow(),
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
        if changed != 1:
            continue
        found += 1
        if again:
            clear_progress(job.id)
            enqueue(job.id)
    return found


def remove_expired_files(now: datetime | None = None) -> int:
    """Delete the files of jobs past their keeping time, and files no job names."""
    now = now or utcnow()
    removed = 0
    expired = db.session.scalars(
        sa.select(Job).where(Job.file_path.is_not(None), Job.expires_at < now)
    ).all()
    for job in expired:
        path = files_dir() / str(job.file_path)
        path.unlink(missing_ok=True)
        job.file_path = None
        removed += 1
    db.session.commit()
    folder = files_dir()
    if folder.is_dir():
        named = set(db.session.scalars(sa.select(Job.file_path).where(Job.file_path.is_not(None))))
        cutoff = time.time() - 3600
        for path in folder.iterdir():
            if path.name not in named and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed += 1
    return removed


# --- reading ---------------------------------------------------------------------------------


@dataclass
class JobStatus:
    """What the job page and its JSON show."""

    state: JobState
    done: int
    total: int
    elapsed: float | None  # seconds since it started
    remaining: float | None  # an estimate, from the pace so far
    result: str | None  # the address of the file or page, when done
    message: str
    stale: bool


def job_status(job: Job) -> JobStatus:
    done, total = job.done, job.total
    if job.state == JobState.RUNNING:
        progress = read_progress(job.id)
        if progress:
            done, total = int(progress["done"]), int(progress["total"]) or total
    elapsed = None
    if job.started_at is not None:
        end = job.finished_at or utcnow()
        elapsed = max((end - job.started_at).total_seconds(), 0.0)
    remaining = None
    if job.state == JobState.RUNNING and elapsed and done and total and done < total:
        remaining = elapsed / done * (total - done)
    return JobStatus(
        state=job.state,
        done=done,
        total=total,
        elapsed=elapsed,
        remaining=remaining,
        result=result_address(job),
        message=job.message or "",
        stale=is_stale(job),
    )


def job_page(job: Job) -> Response:
    """Where a request that started a job sends the person: the job's page, at once."""
    return redirect(url_for("jobs.detail", token=job.token), 303)


def result_address(job: Job) -> str | None:
    if job.state != JobState.DONE:
        return None
    if job.file_path:
        return url_for("jobs.download", token=job.token)
    if job.result:
        return url_for(job.result["endpoint"], **job.result.get("args", {}))
    return None


def file_of(job: Job) -> bytes | None:
    """The job's file, when it is still kept and unchanged since the job made it."""
    if not job.file_path:
        return None
    path = files_dir() / job.file_path
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    if hashlib.sha256(data).hexdigest() != job.file_sha256:
        log.error("job file %s does not match its SHA-256; refused", path)
        return None
    return data


def jobs_of(user: User, limit: int = 50) -> list[Job]:
    """The account's recent jobs, newest first (我的任务)."""
    return list(
        db.session.scalars(
            sa.select(Job)
            .where(Job.user_id == user.id)
            .order_by(Job.created_at.desc())
            .limit(limit)
        )
    )
