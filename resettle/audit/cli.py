"""`flask audit ...`: check the audit trail's chain."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from resettle.audit.chain import chain_key, explain, head_position, verify
from resettle.extensions import db
from resettle.translate import gettext as _

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
