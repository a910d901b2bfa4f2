"""`flask households ...`: import a ledger, list households."""

from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from resettle import clock
from resettle.audit.services import acting_as
from resettle.errors import RuleViolation
from resettle.extensions import db
from resettle.households.excel import import_households
from resettle.households.models import Stage
from resettle.households.queries import HouseholdFilter, filtered_households
from resettle.privacy import mask_name
from resettle.projects.models import ExpropriationProject
from resettle.translate import gettext as _

households_cli = AppGroup("households", help="Import and list households.")


def project_by_code(code: str) -> ExpropriationProject:
    """The project with this code, or a usage error naming the code."""
    project = db.session.scalar(
        sa.select(ExpropriationProject).where(ExpropriationProject.code == code.strip())
    )
    if project is None:
        raise click.ClickException(_("There is no project with the code %(code)s.", code=code))
    return project


@households_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--project", "project_code", required=True, help="The project's code.")
@click.option("--dry-run", is_flag=True, help="Check the file and print the counts; save nothing.")
def import_command(path: Path, project_code: str, dry_run: bool) -> None:
    """Import households from an Excel ledger (.xlsx): all rows, or none when a row is wrong."""
    project = project_by_code(project_code)
    with acting_as("cli"):
        try:
            report = import_households(db.session, project, path, operator=None, dry_run=dry_run)
        except RuleViolation as exc:
            db.session.rollback()
            raise click.ClickException(exc.message) from None
        if report.errors:
            db.session.rollback()
            for error in report.errors:
                click.echo(str(error), err=True)
            raise click.ClickException(
                _(
                    "%(n)d problems found; nothing was imported.",
                    n=len(report.errors),
                )
            )
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
    click.echo(report.summary())
    if dry_run:
        click.echo(_("Dry run: nothing was saved."))


@households_cli.command("list")
@click.option("--project", "project_code", default=None, help="Only this project's households.")
@click.option("--stage", default=None, help="Only households at this stage (e.g. surveyed).")
def list_command(project_code: str | None, stage: str | None) -> None:
    """Print each household: case number, masked name and stage, tab-separated."""
    filters = HouseholdFilter()
    if project_code is not None:
        filters.project_id = project_by_code(project_code).id
    if stage is not None:
        if stage.strip().lower() not in Stage._value2member_map_:
            raise click.ClickException(
                _(
                    "Unknown stage %(stage)s: use one of %(stages)s.",
                    stage=stage,
                    stages=", ".join(s.value for s in Stage),
                )
            )
        filters.stage = Stage(stage.strip().lower())
    for household in db.session.scalars(filtered_households(filters, clock.today())):
        click.echo(f"{household.case_number}\t{mask_name(household.head_name)}\t{household.stage}")
