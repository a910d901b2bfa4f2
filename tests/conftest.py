"""Fixtures: an app migrated with Alembic, one rolled-back transaction per test, and factories."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import pyotp
import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade

from resettle import create_app
from resettle.auth.mfa import (
    confirm_enrolment,
    has_second_factor,
    new_secret,
    second_factor_required,
)
from resettle.auth.models import Role, User, UserProject
from resettle.extensions import db
from resettle.households.models import Household, Stage
from resettle.projects.models import ExpropriationProject
from resettle.projects.scope import ProjectScopedSession
from tests.dbs import backend_name, fresh_database

TEST_PASSWORD = "Correct-Horse-42"
# Hashed once, with cheap argon2 parameters: verification reads them from the hash, so logins
# in tests stay fast while the app itself keeps the library's (deliberately slow) defaults.
TEST_PASSWORD_HASH = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(
    TEST_PASSWORD
)
_counter = itertools.count(1)


def pytest_report_header(config: pytest.Config) -> str:
    return f"resettle test database: {backend_name()}"


def make_test_app(database_url: str, **overrides: Any) -> Flask:
    settings = {"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url}
    settings.update(overrides)
    return create_app(settings)


def migrated_app_for_threads(purpose: str, tmp_dir: Any, threads: int) -> Flask:
    """A migrated app on its own fresh database with a connection for each of `threads`, so
    they really are in the database at once (the concurrency tests; no rolled-back test
    transaction there)."""
    application = make_test_app(
        fresh_database(purpose, tmp_dir),
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": threads + 2, "max_overflow": 0},
    )
    with application.app_context():
        upgrade()
    return application


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return fresh_database("suite", tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Flask]:
    application = make_test_app(database_url)
    with application.app_context():
        upgrade()
        db.engine.dispose()
    yield application


class ConnectionBoundSession(ProjectScopedSession):
    """Flask-SQLAlchemy's session picks engines itself; in tests it must use the test connection."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):  # noqa: ANN001
        return self.bind


@pytest.fixture(autouse=True)
def _transaction(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test runs inside a transaction that is rolled back afterwards."""
    if "no_transaction" in request.keywords:
        yield
        return
    application: Flask = request.getfixturevalue("app")
    with application.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = db._make_scoped_session(
            {
                "bind": connection,
                "join_transaction_mode": "create_savepoint",
                "class_": ConnectionBoundSession,
            }
        )
        try:
            yield
        finally:
            db.session.remove()
            db.session = original
            if outer.is_active:
                outer.rollback()
            connection.close()


class FreshContextClient(FlaskClient):
    """Each request gets its own app context (and so its own `g` and session), as in production.

    The test's own context stays pushed underneath; both sessions share the test connection.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    app.test_client_class = FreshContextClient
    return app.test_client()


@pytest.fixture
def make_user() -> Callable[..., User]:
    def factory(
        role: Role | str = Role.CASEWORKER,
        projects: list[ExpropriationProject] | None = None,
        **overrides: Any,
    ) -> User:
        """An account; with `projects`, one that works in these projects (片区) only."""
        n = next(_counter)
        values: dict[str, Any] = {
            "username": f"user{n}-{Role(role).value}",
            "full_name": f"测试用户{n}",
            "role": Role(role),
            "password_hash": TEST_PASSWORD_HASH,
        }
        values.update(overrides)
        user = User(**values)
        user.project_links = [UserProject(project_id=p.id) for p in projects or []]
        db.session.add(user)
        db.session.flush()
        return user

    return factory


@dataclass
class AuthenticatorApp:
    """A test account's authenticator app and its recovery codes. Each code is used once: a
    second login in the same 30-second step takes a recovery code, as a person would."""

    totp: pyotp.TOTP
    recovery_codes: list[str]
    used_steps: set[int] = field(default_factory=set)

    def code(self) -> str:
        step = int(time.time()) // self.totp.interval
        if step in self.used_steps:
            return self.recovery_codes.pop()
        self.used_steps.add(step)
        return self.totp.at(step * self.totp.interval)


def enrol_second_factor(user: User) -> AuthenticatorApp:
    """Set up an authenticator app for `user` as of a minute ago, so the app's code of now is
    a new one; the app is kept as `user.test_app`."""
    secret = new_secret()
    totp = pyotp.TOTP(secret)
    then = time.time() - 60
    codes = confirm_enrolment(db.session, user, secret, totp.at(then), now=then)
    user.test_app = AuthenticatorApp(totp, codes)
    return user.test_app


@pytest.fixture
def login_as(client: FlaskClient, make_user: Callable[..., User]) -> Callable[..., User]:
    def login(
        role: Role | str = Role.CASEWORKER,
        projects: list[ExpropriationProject] | None = None,
        **overrides: Any,
    ) -> User:
        """Log in as a new account. It sees every project unless `projects` names the ones it
        works in (the existing tests are about roles, not about projects)."""
        if projects is None:
            overrides.setdefault("all_projects", True)
        user = make_user(role, projects=projects, **overrides)
        if second_factor_required(user) and not has_second_factor(user):
            enrol_second_factor(user)  # an admin's login asks for the app's code
        response = client.post(
            "/login", data={"username": user.username, "password": TEST_PASSWORD}
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        if response.location.endswith("/login/code"):
            response = client.post("/login/code", data={"code": user.test_app.code()})
            assert response.status_code == 302, response.get_data(as_text=True)
            assert "/login" not in response.location, response.location
        return user

    return login


@pytest.fixture
def make_project() -> Callable[..., ExpropriationProject]:
    def factory(**overrides: Any) -> ExpropriationProject:
        n = next(_counter)
        values: dict[str, Any] = {
            "code": f"T{n:04d}",
            "name": f"测试征收项目{n}",
            "decision_date": date(2025, 3, 10),
            "signing_start": date(2025, 3, 20),
            "signing_end": date(2025, 6, 30),
            # Most tests look at a project on the public pages; unpublished ones say so.
            "published": True,
        }
        values.update(overrides)
        project = ExpropriationProject(**values)
        db.session.add(project)
        db.session.flush()
        return project

    return factory


# Resident ID numbers with correct check digits (python-stdnum validates them).
VALID_IDS = [
    "11010519491231002X",
    "110101199003074477",
    "44030419850612321X",
    "110102198001011239",
    "110108197505054324",
    "440106199203155675",
    "110105199508080018",
]


@pytest.fixture
def make_household(make_project: Callable[..., ExpropriationProject]) -> Callable[..., Household]:
    def factory(**overrides: Any) -> Household:
        n = next(_counter)
        project = overrides.pop("project", None) or make_project()
        values: dict[str, Any] = {
            "project": project,
            "case_number": f"{project.code}-{n:04d}",
            "head_name": "张三",
            "head_id_number": VALID_IDS[n % len(VALID_IDS)],
            "phone": "13800138000",
            "house_address": "东城区解放路1号",
            "legal_area": Decimal("85.32"),
            "stage": Stage.SURVEYED,
        }
        values.update(overrides)
        household = Household(**values)
        db.session.add(household)
        db.session.flush()
        return household

    return factory


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "no_transaction: the test manages its own database (no rollback wrapper)"
    )
