"""A backup started from the admin page, as a job: made and checked off the web request.

The job writes the file into BACKUP_DIR on the machine its worker runs on and says where, how
big, its SHA-256 and that the same check as `flask backup verify` passed. The file itself is
never a download: it holds every resident's ID number.
"""

from __future__ import annotations

from pathlib import Path

from flask import current_app

from resettle.backup.services import BackupError, create_backup, verify_backup
from resettle.db import utcnow
from resettle.errors import RuleViolation
from resettle.jobs.services import JobContext, job_kind
from resettle.translate import gettext as _

KIND = "backup"
#: The steps the job reports (made, checked).
STEPS = 2


def backup_dir() -> Path:
    """Where backups started from the web are written (made when missing)."""
    folder = Path(current_app.config["BACKUP_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def backup_path() -> Path:
    """A new backup's file: named by the time (UTC) it was started, never an existing one."""
    folder = backup_dir()
    stamp = utcnow().strftime("%Y%m%d-%H%M%SZ")
    path = folder / f"resettle-{stamp}.backup"
    n = 1
    while path.exists():
        n += 1
        path = folder / f"resettle-{stamp}-{n}.backup"
    return path


@job_kind(KIND)
def run_backup(job: JobContext) -> None:
    """Make a backup with the same services as `flask backup create` and check it as
    `flask backup verify` does; the summary is the job's outcome (its audit event commits
    with the job)."""
    path = backup_path()
    try:
        made = create_backup(path)
        job.progress(1, STEPS)
        checked = verify_backup(path)
    except BackupError as error:
        raise RuleViolation(str(error)) from None
    job.progress(STEPS, STEPS)
    job.say(
        "\n".join(
            [
                _(
                    "Backup written: %(path)s, %(size)s bytes, SHA-256 %(sha)s.",
                    path=made.path,
                    size=f"{made.size:,}",
                    sha=made.sha256,
                ),
                *checked.lines,
                _("Checked as `flask backup verify` checks it: the backup is sound."),
            ]
        )
    )
    job.link("backup.index")
