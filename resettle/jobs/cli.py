"""`flask jobs ...`: run a worker, list jobs, tidy up."""

from __future__ import annotations

import logging

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from resettle.extensions import db
from resettle.jobs.models import Job
from resettle.jobs.queue import queue
from resettle.jobs.services import recover_stale_jobs, remove_expired_files

jobs_cli = AppGroup("jobs", help="Background jobs (后台任务): the worker that runs them.")


@jobs_cli.command("worker")
@click.option(
    "--workers",
    "-w",
    default=1,
    show_default=True,
    type=click.IntRange(1, 16),
    help="Jobs run at once by this worker (each large PDF also renders on every core).",
)
def worker(workers: int) -> None:
    """Run jobs from the queue until stopped (Ctrl-C or SIGTERM finishes the running ones)."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    huey = queue()
    with current_app.app_context():
        recover_stale_jobs()
        db.session.remove()
    url = current_app.config.get("JOBS_QUEUE_URL")
    click.echo(f"resettle job worker: {workers} at once, queue {url}")
    logging.getLogger("huey").setLevel(logging.WARNING)  # not a line per job and per minute
    consumer = huey.create_consumer(
        workers=workers, worker_type="thread", periodic=True, check_worker_health=True
    )
    consumer.run()


@jobs_cli.command("list")
@click.option("--limit", default=20, show_default=True)
def list_jobs(limit: int) -> None:
    """The latest jobs with their state."""
    rows = db.session.scalars(sa.select(Job).order_by(Job.created_at.desc()).limit(limit))
    for job in rows:
        click.echo(
            f"{job.token}  {job.state.value:8}  {job.done:>6}/{job.total:<6} "
            f"{job.created_at:%Y-%m-%d %H:%M}  {job.title}"
        )


@jobs_cli.command("upkeep")
def upkeep() -> None:
    """Start again the jobs whose worker was lost; delete files past their keeping time."""
    found = recover_stale_jobs()
    removed = remove_expired_files()
    click.echo(f"jobs whose worker was lost: {found}; files removed: {removed}")
