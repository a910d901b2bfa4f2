"""`flask supervision ...`: the overdue list as PDF or Excel."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from resettle import clock
from resettle.calendar import outside_calendar
from resettle.clitools import check_output_folder
from resettle.errors import RuleViolation
from resettle.extensions import db
from resettle.projects.models import ExpropriationProject
from resettle.supervision.exports import overdue_pdf, overdue_xlsx
from resettle.supervision.levels import Level
from resettle.supervision.overdue import OverdueFilter
from resettle.translate import gettext as _

supervision_cli = AppGroup("supervision", help="Supervision (督查督办): overdue lists.")


@supervision_cli.command("overdue")
@click.argument("out", metavar="OUT.pdf|OUT.xlsx", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--project", "project_code", default=None, help="Only this project's items (code).")
@click.option("--unit", default=None, help="Only this responsible unit's items.")
@click.option("--level", type=click.Choice([lv.value for lv in Level]), default=None)
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The day the list is made for (YYYY-MM-DD; default today).",
)
def overdue_command(
    out: Path,
    project_code: str | None,
    unit: str | None,
    level: str | None,
    as_of: datetime | None,
) -> None:
    """Write the overdue list (every late or soon-due plan node and case step, grouped by
    responsible unit) to OUT: a PDF, or Excel when the name ends in .xlsx."""
    if out.suffix.lower() not in (".pdf", ".xlsx"):
        raise click.ClickException(_("Name the file OUT.pdf or OUT.xlsx."))
    check_output_folder(out)
    filters = OverdueFilter(unit=unit or None, level=Level(level) if level else None)
    if project_code:
        project = db.session.scalar(
            sa.select(ExpropriationProject).where(ExpropriationProject.code == project_code)
        )
        if project is None:
            raise click.ClickException(
                _("There is no project with the code %(code)s.", code=project_code)
            )
        filters.project_id = project.id
    day = as_of.date() if as_of else clock.today()
    message = outside_calendar(day)
    if message is not None:
        raise click.ClickException(f"--as-of: {message}")
    try:
        if out.suffix.lower() == ".xlsx":
            data = overdue_xlsx(db.session, filters, day)
        else:
            data = overdue_pdf(db.session, filters, day)
    except RuleViolation as exc:
        raise click.ClickException(str(exc.message)) from None
    out.write_bytes(data)
    click.echo(f"{out} ({len(data):,} bytes)")
