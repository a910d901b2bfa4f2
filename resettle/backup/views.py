"""The admin's backup page: start a backup as a job, see the backups written so far."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flask import abort, redirect, render_template, url_for
from flask_login import current_user

from resettle.auth.models import Role
from resettle.auth.policy import role_required
from resettle.backup import bp
from resettle.backup.jobs import KIND, backup_dir
from resettle.forms import ButtonForm
from resettle.jobs.services import job_page, submit_job
from resettle.translate import gettext as _

#: How many of the newest backup files the page lists.
LISTED = 20


@dataclass
class BackupFile:
    name: str
    size: int
    written_at: datetime


def _written() -> list[BackupFile]:
    """The newest backup files in BACKUP_DIR (names, sizes and times only: never the file)."""
    files = [
        BackupFile(p.name, p.stat().st_size, datetime.fromtimestamp(p.stat().st_mtime, UTC))
        for p in backup_dir().glob("*.backup")
        if p.is_file()
    ]
    return sorted(files, key=lambda f: f.written_at, reverse=True)[:LISTED]


def _for_every_project() -> None:
    """A backup holds every project: only an account that sees every project starts one."""
    if not current_user.sees_every_project:
        abort(403)


@bp.route("/admin/backups")
@role_required(Role.ADMIN)
def index():
    _for_every_project()
    return render_template(
        "backup/index.html", form=ButtonForm(), folder=str(backup_dir()), files=_written()
    )


@bp.route("/admin/backups", methods=["POST"], endpoint="start")
@role_required(Role.ADMIN)
def start():
    _for_every_project()
    if not ButtonForm().validate_on_submit():
        return redirect(url_for("backup.index"))
    job = submit_job(
        KIND,
        title=_("Backup of the database"),
        user=current_user,
        project_id=None,  # above projects: seen only by accounts that see every project
        total=2,
    )
    return job_page(job)
