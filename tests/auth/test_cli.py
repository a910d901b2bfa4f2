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


def _cli(app, *args, input=None):
    return app.test_cli_runner().invoke(args=["users", *args], input=input)


def test_create_a_caseworker_for_projects_named_by_code(app, make_project):
    first, second = make_project(code="CLI1"), make_project(code="CLI2")
    result = _cli(
        app,
        "create",
        "--username",
        "cw.cli",
        "--role",
        "caseworker",
        "--project",
        "cli1",
        "--project",
        "CLI2",
        input="Very-Strong-Pass-1\nVery-Strong-Pass-1\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.username == "cw.cli"))
    assert user.project_ids == {first.id, second.id} and not user.all_projects
    assert user.must_change_password


def test_create_refuses_an_unknown_project_or_none_at_all(app):
    result = _cli(
        app,
        "create",
        "--username",
        "cw.none",
        "--role",
        "caseworker",
        "--project",
        "NOPE",
        input="Very-Strong-Pass-1\nVery-Strong-Pass-1\n",
    )
    assert result.exit_code != 0 and "--project: 没有项目 NOPE" in result.output
    result = _cli(
        app,
        "create",
        "--username",
        "cw.none",
        "--role",
        "caseworker",
        input="Very-Strong-Pass-1\nVery-Strong-Pass-1\n",
    )
    assert result.exit_code != 0 and "--project" in result.output
    assert db.session.scalar(sa.select(User).where(User.username == "cw.none")) is None
    result = _cli(
        app,
        "create",
        "--username",
        "leader.all",
        "--role",
        "leader",
        "--all-projects",
        input="Very-Strong-Pass-1\nVery-Strong-Pass-1\n",
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(User).where(User.username == "leader.all")).all_projects


def test_list_set_role_set_projects_unlock_disable_enable(app, make_user, make_project):
    from datetime import timedelta

    from resettle.db import utcnow

    project = make_project(code="CLI9")
    user = make_user(username="cli.target", locked_until=utcnow() + timedelta(minutes=5))
    token = user.session_token
    db.session.commit()  # the fixtures stay when a refused command rolls back
    line = next(r for r in _cli(app, "list").output.splitlines() if r.startswith("cli.target"))
    assert "caseworker" in line and "locked until" in line and "never" in line

    refused = _cli(app, "set-role", "cli.target", "supervisor")  # it has no project yet
    assert refused.exit_code != 0 and "--project: 请选择该账号负责的项目" in refused.output
    assert _cli(app, "set-projects", "CLI.TARGET", "--project", "CLI9").exit_code == 0
    assert _cli(app, "set-role", "cli.target", "supervisor").exit_code == 0
    assert _cli(app, "unlock", "cli.target").exit_code == 0
    assert _cli(app, "disable", "cli.target").exit_code == 0
    db.session.expire_all()
    assert user.role == Role.SUPERVISOR and user.project_ids == {project.id}
    assert user.locked_until is None and not user.active and user.session_token != token
    line = next(r for r in _cli(app, "list").output.splitlines() if r.startswith("cli.target"))
    assert "CLI9" in line and "disabled" in line and "locked" not in line
    assert _cli(app, "enable", "cli.target").exit_code == 0
    db.session.expire_all()
    assert user.active
    assert "no account nobody" in _cli(app, "disable", "nobody").output


def test_reset_password_prints_a_one_time_password_once(app, make_user):
    from resettle.auth.services import verify_password

    user = make_user(username="cli.reset")
    result = _cli(app, "reset-password", "cli.reset")
    assert result.exit_code == 0, result.output
    password = result.output.strip().rsplit(" ", 1)[-1]
    db.session.expire_all()
    assert verify_password(user.password_hash, password) and user.must_change_password
    assert password not in _cli(app, "list").output
