"""`flask users ...`: accounts from the command line, through the same services as the admin
screens (resettle/auth/accounts.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from resettle.audit.services import acting_as
from resettle.auth.accounts import (
    AccountState,
    change_access,
    create_account,
    list_accounts,
    project_ids_for_codes,
    reset_account_password,
    reset_account_second_factor,
    set_account_active,
    unlock_account,
)
from resettle.auth.models import Role, User
from resettle.errors import RuleViolation
from resettle.extensions import db

users_cli = AppGroup("users", help="Manage user accounts.")


_OPTIONS = {
    "username": "--username",
    "full_name": "--full-name",
    "unit_name": "--unit",
    "projects": "--project",
    "password": "--password",
}
_ROLE = click.Choice([r.value for r in Role])


def _run(change: Callable[[], Any]) -> Any:
    """One change as "cli", committed; a refusal becomes the error message (naming the option)
    and changes nothing."""
    with acting_as("cli"):
        try:
            result = change()
        except RuleViolation as exc:
            db.session.rollback()
            option = _OPTIONS.get(exc.field or "")
            raise click.ClickException(f"{option}: {exc}" if option else str(exc)) from None
        db.session.commit()
    return result


def _user_id(username: str) -> int:
    user_id = db.session.scalar(
        sa.select(User.id).where(sa.func.lower(User.username) == username.strip().lower())
    )
    if user_id is None:
        raise click.ClickException(f"no account {username}")
    return user_id


def _project_ids(codes: tuple[str, ...]) -> set[int]:
    try:
        return project_ids_for_codes(db.session, codes)
    except RuleViolation as exc:
        raise click.ClickException(f"--project: {exc}") from None


@users_cli.command("create")
@click.option("--username", prompt=True, help="Login name.")
@click.option("--full-name", default="", help="The person's name as shown in the app.")
@click.option("--role", type=_ROLE, required=True, help="admin, caseworker, supervisor or leader.")
@click.option("--unit", "unit_name", default=None, help="The person's unit (责任单位).")
@click.option(
    "--project", "projects", multiple=True, help="Code of a project it works in (repeatable)."
)
@click.option("--all-projects", is_flag=True, help="It works in every project.")
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
    projects: tuple[str, ...],
    all_projects: bool,
    password: str,
) -> None:
    """Create an account (the first admin is made this way); a non-admin needs --project or
    --all-projects."""
    ids = _project_ids(projects)
    user = _run(
        lambda: create_account(
            db.session,
            username,
            full_name,
            Role(role),
            password,
            unit_name=unit_name,
            all_projects=all_projects,
            project_ids=ids,
        )
    )
    click.echo(f"created {user.username} ({user.role.value})")


def _state_text(row: Any) -> str:
    words = []
    for state in row.states:
        if state == AccountState.LOCKED:
            words.append(f"locked until {row.locked_until:%Y-%m-%d %H:%M} UTC")
        else:
            words.append(state.value.replace("_", " "))
    return ", ".join(words)


@users_cli.command("list")
def list_users() -> None:
    """Print each account: username, role, projects, state, last login."""
    for row in list_accounts(db.session):
        user = row.user
        projects = "all" if user.sees_every_project else (",".join(row.project_codes) or "-")
        last = f"{user.last_login_at:%Y-%m-%d %H:%M} UTC" if user.last_login_at else "never"
        click.echo(f"{user.username}\t{user.role.value}\t{projects}\t{_state_text(row)}\t{last}")


@users_cli.command("set-role")
@click.argument("username")
@click.argument("role", type=_ROLE)
def set_role(username: str, role: str) -> None:
    """Give an account another role (its sessions end)."""
    user_id = _user_id(username)
    user = db.session.get(User, user_id)
    all_projects, ids = user.all_projects, set(user.project_ids)
    user = _run(
        lambda: change_access(db.session, user_id, Role(role), all_projects, ids, actor_id=None)
    )
    click.echo(f"{user.username} is now {user.role.value}")


@users_cli.command("set-projects")
@click.argument("username")
@click.option(
    "--project", "projects", multiple=True, help="Code of a project it works in (repeatable)."
)
@click.option("--all-projects", is_flag=True, help="It works in every project.")
def set_projects(username: str, projects: tuple[str, ...], all_projects: bool) -> None:
    """Give an account these projects, or every project (its sessions end)."""
    user_id = _user_id(username)
    ids = _project_ids(projects)
    role = db.session.get(User, user_id).role
    user = _run(lambda: change_access(db.session, user_id, role, all_projects, ids, actor_id=None))
    click.echo(f"{user.username}: {'all projects' if user.all_projects else ', '.join(projects)}")


@users_cli.command("reset-password")
@click.argument("username")
def reset_password_command(username: str) -> None:
    """Print a one-time password for the account, once; it chooses its own at the next login."""
    user_id = _user_id(username)
    user, password = _run(lambda: reset_account_password(db.session, user_id))
    click.echo(f"one-time password for {user.username} (shown once): {password}")


@users_cli.command("unlock")
@click.argument("username")
def unlock(username: str) -> None:
    """Let a locked-out account try again now."""
    user_id = _user_id(username)
    user = _run(lambda: unlock_account(db.session, user_id))
    click.echo(f"{user.username} unlocked")


@users_cli.command("disable")
@click.argument("username")
def disable(username: str) -> None:
    """Disable an account: it cannot log in, and every session of it ends."""
    user_id = _user_id(username)
    user = _run(lambda: set_account_active(db.session, user_id, False, actor_id=None))
    click.echo(f"{user.username} disabled")


@users_cli.command("enable")
@click.argument("username")
def enable(username: str) -> None:
    """Enable a disabled account again."""
    user_id = _user_id(username)
    user = _run(lambda: set_account_active(db.session, user_id, True, actor_id=None))
    click.echo(f"{user.username} enabled")


@users_cli.command("reset-mfa")
@click.argument("username")
def reset_mfa(username: str) -> None:
    """Forget USERNAME's authenticator app and recovery codes (a lost phone): the account
    sets up a new one at its next login, and its open sessions end."""
    user = _run(lambda: reset_account_second_factor(db.session, _user_id(username)))
    click.echo(f"second factor of {user.username} reset: it sets up a new one at its next login")
