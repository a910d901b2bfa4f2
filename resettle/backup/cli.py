"""`flask backup ...`: make a backup while the application serves, check one, restore one."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from flask.cli import AppGroup

from resettle.audit.services import acting_as
from resettle.backup.services import BackupError, create_backup, restore_backup, verify_backup
from resettle.extensions import db
from resettle.translate import gettext as _

backup_cli = AppGroup("backup", help="Backups (备份): make, check and restore.")

_PATH = click.Path(dir_okay=False, path_type=Path)


class _Steps:
    """Each step on standard error as it starts, with the seconds since the command began."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    def __call__(self, message: str) -> None:
        click.echo(f"[{time.perf_counter() - self.started:7.1f} s] {message}", err=True)


def _finish(lines: list[str]) -> None:
    for line in lines:
        click.echo(line)


@backup_cli.command("create")
@click.argument("path", metavar="PATH", type=_PATH)
def create_command(path: Path) -> None:
    """Write a backup of the database and its archived documents to PATH (one file), while the
    application keeps serving."""
    steps = _Steps()
    try:
        with acting_as("cli"):
            outcome = create_backup(path, progress=steps)
            db.session.commit()  # the audit event of the backup
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    _finish(outcome.lines)
    click.echo(
        _(
            "Backup written: %(path)s, %(size)s bytes, SHA-256 %(sha)s.",
            path=outcome.path,
            size=f"{outcome.size:,}",
            sha=outcome.sha256,
        )
    )


@backup_cli.command("verify")
@click.argument("path", metavar="PATH", type=_PATH)
def verify_command(path: Path) -> None:
    """Check the backup at PATH without restoring it; exit 1 saying what is wrong."""
    try:
        outcome = verify_backup(path, progress=_Steps())
    except BackupError as error:
        click.echo(str(error), err=True)
        sys.exit(1)
    _finish(outcome.lines)
    click.echo(_("The backup is sound."))


@backup_cli.command("restore")
@click.argument("path", metavar="PATH", type=_PATH)
@click.option("--force", is_flag=True, help="Replace a database that already holds work.")
def restore_command(path: Path, force: bool) -> None:
    """Load the backup at PATH into the configured database (stop the application first),
    migrate it to the current schema and check counts, documents and the audit chain."""
    try:
        with acting_as("cli"):
            outcome = restore_backup(path, force=force, progress=_Steps())
            db.session.commit()  # the audit event of the restore, in the restored trail
    except BackupError as error:
        click.echo(str(error), err=True)
        sys.exit(1)
    _finish(outcome.lines)
    click.echo(_("Restored from %(path)s.", path=outcome.path))
