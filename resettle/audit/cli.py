"""`flask audit ...`: check the audit trail's chain; prune rows past their retention."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import AppGroup

from resettle.audit.chain import chain_key, explain, head_position, verify
from resettle.audit.retention import prune
from resettle.audit.services import acting_as
from resettle.errors import RuleViolation
from resettle.extensions import db
from resettle.translate import gettext as _

CHINA = ZoneInfo("Asia/Shanghai")

audit_cli = AppGroup("audit", help="The audit trail (审计日志): check its chain.")


@audit_cli.command("verify")
def verify_command() -> None:
    """Walk the audit chain from its first row; exit 1 naming the first row that does not match
    (changed, deleted, or inserted behind the application)."""
    key = chain_key(current_app.config)
    with db.engine.connect() as connection:
        total = head_position(connection)
        show = sys.stderr.isatty() and total > 50_000
        with click.progressbar(
            length=total, label=_("Audit chain"), file=sys.stderr, hidden=not show
        ) as bar:
            done = [0]

            def progress(count: int) -> None:
                bar.update(count - done[0])
                done[0] = count

            result = verify(connection, key, progress=progress)
    click.echo(explain(result))
    if not result.ok:
        sys.exit(1)


@audit_cli.command("prune")
@click.option(
    "--before",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Prune rows written before this date (YYYY-MM-DD); default: AUDIT_RETENTION_DAYS ago.",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def prune_command(before: datetime | None, yes: bool) -> None:
    """Remove the audit rows older than the retention period (AUDIT_RETENTION_DAYS, at least
    180 days) from the beginning of the chain, as the tables' owner; make a backup first."""
    if not yes:
        click.confirm(
            _("Audit rows removed cannot be brought back except from a backup. Go on?"),
            abort=True,
        )
    cutoff = before.replace(tzinfo=CHINA).astimezone(UTC) if before else None
    try:
        with acting_as("cli"):
            pruned = prune(cutoff)
    except RuleViolation as violation:
        raise click.ClickException(str(violation)) from None
    click.echo(
        _(
            "%(rows)s audit rows written before %(date)s pruned; the chain now starts after "
            "position %(seq)s.",
            rows=pruned.rows,
            date=pruned.before.astimezone(CHINA).strftime("%Y-%m-%d %H:%M"),
            seq=pruned.up_to,
        )
    )
