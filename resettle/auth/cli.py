"""`flask users ...`: accounts from the command line."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from resettle.audit.services import acting_as
from resettle.auth.models import Role, User
from resettle.auth.services import create_user
from resettle.errors import RuleViolation
from resettle.extensions import db
from resettle.projects.services import projects_by_codes

users_cli = AppGroup("users", help="Manage user accounts.")


_OPTIONS = {
    "username": "--username",
    "full_name": "--full-name",
    "unit_name": "--unit",
    "projects": "--project",
}


@users_cli.command("create")
@click.option("--username", prompt=True, help="Login name.")
@click.option("--full-name", default="", help="The person's name as shown in the app.")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    required=True,
    help="admin, caseworker, supervisor or leader.",
)
@click.option("--unit", "unit_name", default=None, help="The person's unit (责任单位).")
@click.option(
    "--project",
    "project_codes",
    multiple=True,
    help="The code of a project (片区) the account works in; repeat for several.",
)
@click.option(
    "--all-projects",
    is_flag=True,
    help="The account sees every project (admins always do).",
)
@click.password_option(
    "--password",
    envvar="RESETTLE_NEW_PASSWORD",
    help="Asked for when not given (or set RESETTLE_NEW_PASSWORD).",
)
def create(
    username: str,
    full_name: str,
    role: str,
    unit_name: str | None,
    project_codes: tuple[str, ...],
    all_projects: bool,
    password: str,
) -> None:
    """Create an account (the first admin is made this way)."""
    with acting_as("cli"):
        try:
            projects = projects_by_codes(db.session, project_codes)
            user = create_user(
                db.session,
                username,
                full_name,
                Role(role),
                password,
                unit_name=unit_name,
                project_ids=[project.id for project in projects],
                all_projects=all_projects,
            )
        except RuleViolation as exc:
            db.session.rollback()
            option = _OPTIONS.get(exc.field or "")
            raise click.ClickException(f"{option}: {exc}" if option else str(exc)) from None
        db.session.commit()
    if user.sees_every_project:
        where = "every project"
    else:
        where = ", ".join(project.code for project in projects) or "no project yet"
    click.echo(f"created {user.username} ({user.role.value}), working in {where}")


@users_cli.command("list")
def list_users() -> None:
    """Print each account: username, role, active or locked."""
    for user in db.session.scalars(sa.select(User).order_by(User.username)):
        state = "active" if user.active else "inactive"
        click.echo(f"{user.username}\t{user.role.value}\t{state}")
