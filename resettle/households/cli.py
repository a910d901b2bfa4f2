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
from resettle.households.ledger import import_error_report, import_households
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
@click.option(
    "--skip-bad", is_flag=True, help="Import the good rows and leave the rows with problems."
)
@click.option(
    "--accept-warnings",
    is_flag=True,
    help="Import rows with warnings (ID region codes the national table lacks), checked by you.",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the file back as .xlsx with a 错误说明 column when rows have problems.",
)
def import_command(
    path: Path,
    project_code: str,
    dry_run: bool,
    skip_bad: bool,
    accept_warnings: bool,
    report_path: Path | None,
) -> None:
    """Import households from an Excel ledger (.xlsx or .xls): all rows, or none when a row is
    wrong (with --skip-bad: the good ones)."""
    project = project_by_code(project_code)
    if report_path is not None and not report_path.parent.is_dir():
        raise click.ClickException(
            _("The folder %(folder)s does not exist.", folder=str(report_path.parent))
        )
    data = path.read_bytes()
    with acting_as("cli"):
        try:
            report = import_households(
                db.session,
                project,
                data,
                operator=None,
                dry_run=dry_run,
                skip_bad=skip_bad,
                confirm_warnings=accept_warnings,
            )
        except RuleViolation as exc:
            db.session.rollback()
            raise click.ClickException(exc.message) from None
        for skipped in report.skipped:
            click.echo(_("Row %(row)d: %(reason)s", row=skipped.number, reason=skipped.reason))
        for error in report.errors:
            click.echo(str(error), err=True)
        if report.errors and report_path is not None:
            report_path.write_bytes(import_error_report(data, report))
            click.echo(_("Error report written to %(path)s.", path=str(report_path)), err=True)
        if report.needs_confirmation:
            db.session.rollback()
            for row, warning in report.warnings:
                click.echo(_("Row %(row)d: %(reason)s", row=row, reason=warning), err=True)
            raise click.ClickException(
                _(
                    "%(n)d warnings to check; nothing was imported. Check them, then import "
                    "again with --accept-warnings.",
                    n=len(report.warnings),
                )
            )
        if report.errors and not (skip_bad and report.saved):
            db.session.rollback()
            raise click.ClickException(
                _(
                    "%(n)d problems found; nothing was imported.",
                    n=report.problem_count,
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
