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

users_cli = AppGroup("users", help="Manage user accounts.")


_OPTIONS = {"username": "--username", "full_name": "--full-name", "unit_name": "--unit"}


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
@click.password_option(
    "--password",
    envvar="RESETTLE_NEW_PASSWORD",
    help="Asked for when not given (or set RESETTLE_NEW_PASSWORD).",
)
def create(username: str, full_name: str, role: str, unit_name: str | None, password: str) -> None:
    """Create an account (the first admin is made this way)."""
    with acting_as("cli"):
        try:
            user = create_user(
                db.session, username, full_name, Role(role), password, unit_name=unit_name
            )
        except RuleViolation as exc:
            db.session.rollback()
            option = _OPTIONS.get(exc.field or "")
            raise click.ClickException(f"{option}: {exc}" if option else str(exc)) from None
        db.session.commit()
    click.echo(f"created {user.username} ({user.role.value})")


@users_cli.command("list")
def list_users() -> None:
    """Print each account: username, role, active or locked."""
    for user in db.session.scalars(sa.select(User).order_by(User.username)):
        state = "active" if user.active else "inactive"
        click.echo(f"{user.username}\t{user.role.value}\t{state}")


@users_cli.command("reset-mfa")
@click.argument("username")
def reset_mfa(username: str) -> None:
    """Forget USERNAME's authenticator app and recovery codes (a lost phone): the account
    sets up a new one at its next login, and its open sessions end."""
    from resettle.auth.mfa import reset_second_factor

    user = db.session.scalar(
        sa.select(User).where(sa.func.lower(User.username) == username.strip().lower())
    )
    if user is None:
        raise click.ClickException(f"no account named {username!r}")
    with acting_as("cli"):
        reset_second_factor(db.session, user)
        db.session.commit()
    click.echo(f"second factor of {user.username} reset: it sets up a new one at its next login")
