"""The job pages: 我的任务, one job's progress (HTML that refreshes itself, or JSON), its file."""

from __future__ import annotations

import io

import sqlalchemy as sa
from flask import abort, jsonify, render_template, request, send_file
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from resettle.audit.access import EXPORT, masked_filter, record_access
from resettle.auth.policy import logged_in
from resettle.extensions import db
from resettle.jobs import bp
from resettle.jobs.models import Job, JobState
from resettle.jobs.services import KINDS, file_of, job_status, jobs_of, keep_hours
from resettle.projects.scope import sees_project
from resettle.translate import lazy_gettext as _l

STATE_LABELS = {
    JobState.QUEUED: _l("Waiting for a worker"),
    JobState.RUNNING: _l("Running"),
    JobState.DONE: _l("Done"),
    JobState.FAILED: _l("Failed"),
}


def _load(token: str) -> Job:
    """The account's own job, of a project it still sees (or of all it sees: a list over
    projects is made within the account's scope); anyone else's answers 404."""
    job = db.session.scalar(sa.select(Job).where(Job.token == token[:32])) or abort(404)
    if job.user_id != current_user.id:
        abort(404)
    if job.project_id is not None and not sees_project(job.project_id):
        abort(404)
    return job


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    accepted = request.accept_mimetypes
    return best == "application/json" and accepted[best] > accepted["text/html"]


@bp.route("/")
@logged_in
def index():
    jobs = jobs_of(current_user)
    return render_template(
        "jobs/index.html",
        rows=[(job, job_status(job)) for job in jobs],
        keep_hours=keep_hours(),
        labels=STATE_LABELS,
    )


@bp.route("/<token>")
@logged_in
def detail(token: str):
    job = _load(token)
    status = job_status(job)
    if _wants_json():
        return jsonify(
            state=status.state.value,
            done=status.done,
            total=status.total,
            result=status.result,
            message=status.message,
            elapsed=round(status.elapsed, 1) if status.elapsed is not None else None,
            remaining=round(status.remaining, 1) if status.remaining is not None else None,
        )
    return render_template(
        "jobs/detail.html", job=job, status=status, keep_hours=keep_hours(), labels=STATE_LABELS
    )


@bp.route("/<token>/file")
@logged_in
def download(token: str):
    """The job's file. Audited as an export of what it holds, with the filters it was made
    with (masked like a query string), as the download used to be when a request made it."""
    job = _load(token)
    if job.state != JobState.DONE or not job.file_path:
        abort(404)
    data = file_of(job)
    if data is None:
        abort(410)
    kind = KINDS.get(job.kind)
    params = MultiDict(
        (key, str(value)) for key, value in sorted((job.params or {}).items()) if value
    )
    record_access(
        db.session,
        EXPORT,
        kind.entity if kind else "Job",
        None,
        {
            "download": [None, request.path],
            "filter": [None, masked_filter(params)],
            "job": [None, job.title],
        },
    )
    db.session.commit()
    mimetype = job.file_type or "application/octet-stream"
    return send_file(
        io.BytesIO(data),
        mimetype=mimetype,
        as_attachment=mimetype != "application/pdf",
        download_name=job.file_name or job.file_path,
        max_age=0,
    )


download.audited_download = True  # type: ignore[attr-defined]  (audited inside, see above)
