"""`flask users create` makes accounts, checking the password policy."""

import sqlalchemy as sa

from resettle.auth.models import Role, User
from resettle.extensions import db


def test_create_admin_from_the_command_line(app):
    result = app.test_cli_runner().invoke(
        args=[
            "users",
            "create",
            "--username",
            "admin1",
            "--role",
            "admin",
            "--full-name",
            "管理员",
        ],
        input="Very-Strong-Pass-1\nVery-Strong-Pass-1\n",
    )
    assert result.exit_code == 0, result.output
    assert "created admin1 (admin)" in result.output
    user = db.session.scalar(sa.select(User).where(User.username == "admin1"))
    assert user.role == Role.ADMIN


def test_weak_password_is_refused_and_nothing_created(app):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "--username", "admin2", "--role", "admin"],
        input="weak\nweak\n",
    )
    assert result.exit_code != 0
    assert "密码至少需要 12 位" in result.output
    assert db.session.scalar(sa.select(User).where(User.username == "admin2")) is None


def test_names_longer_than_their_columns_are_refused_naming_the_option(app):
    for option, value in (
        ("--username", "u" * 65),
        ("--full-name", "名" * 65),
        ("--unit", "单" * 101),
    ):
        args = ["users", "create", "--role", "admin", option, value]
        if option != "--username":
            args += ["--username", "admin3"]
        result = app.test_cli_runner().invoke(
            args=args, input="Very-Strong-Pass-1\nVery-Strong-Pass-1\n"
        )
        assert result.exit_code != 0, option
        assert f"{option}: 最多" in result.output and "Traceback" not in result.output, option
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_create_an_account_working_in_named_projects(app, make_project):
    east, west, _other = make_project(code="EAST"), make_project(code="WEST"), make_project()
    result = app.test_cli_runner().invoke(
        args=["users", "create", "--username", "wang", "--role", "caseworker"]
        + ["--project", "east", "--project", "WEST"],
        input="Very-Strong-Pass-1\nVery-Strong-Pass-1\n",
    )
    assert result.exit_code == 0, result.output
    assert "working in EAST, WEST" in result.output
    user = db.session.scalar(sa.select(User).where(User.username == "wang"))
    assert user.project_ids == {east.id, west.id}
    assert not user.sees_every_project


def test_create_an_account_seeing_every_project(app):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "--username", "jianduban", "--role", "supervisor"]
        + ["--all-projects"],
        input="Very-Strong-Pass-1\nVery-Strong-Pass-1\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.username == "jianduban"))
    assert user.sees_every_project


def test_an_unknown_project_code_is_refused_and_nothing_created(app, make_project):
    make_project(code="EAST")
    result = app.test_cli_runner().invoke(
        args=["users", "create", "--username", "li", "--role", "caseworker"]
        + ["--project", "EAST", "--project", "NOPE"],
        input="Very-Strong-Pass-1\nVery-Strong-Pass-1\n",
    )
    assert result.exit_code != 0
    assert "--project" in result.output and "NOPE" in result.output
    assert db.session.scalar(sa.select(User).where(User.username == "li")) is None
