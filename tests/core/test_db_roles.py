"""Two database roles on PostgreSQL: the owner migrates, the application's role cannot change
or unguard the audit trail, and the application works as that role."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from resettle.audit.chain import chain_key, verify
from resettle.dbroles import AppRoleError, app_role, grant_app_role
from resettle.extensions import db
from tests.conftest import make_test_app
from tests.dbs import backend_name, postgres_url

on_postgresql = pytest.mark.skipif(
    backend_name() != "postgresql", reason="database roles and grants exist on PostgreSQL only"
)
PASSWORD = "Quartz-Lantern-Otter-93"


@dataclass
class Roles:
    owner: str
    app: str
    owner_url: str
    app_url: str
    admin_url: str  # the suite's superuser, on the same database


def _autocommit(url: str) -> sa.Engine:
    return sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


@pytest.fixture(scope="module")
def roles() -> Iterator[Roles]:
    """Two login roles and a database the owner role owns, migrated with MIGRATION_DATABASE_URL
    as the owner; all dropped afterwards, also when something failed."""
    base = sa.make_url(postgres_url() or "")
    suffix = os.getpid()
    owner, app_user = f"{base.database}_owner_{suffix}", f"{base.database}_app_{suffix}"
    database = f"{base.database}_roles_{suffix}"
    admin = _autocommit(base.set(database="postgres"))

    def drop_all() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            for role in (app_user, owner):
                if conn.scalar(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}):
                    conn.execute(sa.text(f'DROP OWNED BY "{role}"'))
                    conn.execute(sa.text(f'DROP ROLE "{role}"'))

    def url(user: str) -> str:
        return base.set(username=user, database=database).render_as_string(hide_password=False)

    try:
        drop_all()
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE ROLE "{owner}" LOGIN'))
            conn.execute(sa.text(f'CREATE ROLE "{app_user}" LOGIN'))
            conn.execute(sa.text(f'CREATE DATABASE "{database}" OWNER "{owner}"'))
        found = Roles(owner, app_user, url(owner), url(app_user), url(base.username or ""))
        application = make_test_app(found.app_url, MIGRATION_DATABASE_URL=found.owner_url)
        with application.app_context():
            upgrade()
            db.engine.dispose()
        yield found
    finally:
        drop_all()
        admin.dispose()


@pytest.fixture
def as_app(roles: Roles) -> Iterator[sa.Engine]:
    engine = sa.create_engine(roles.app_url, poolclass=sa.pool.NullPool)
    yield engine
    engine.dispose()


@pytest.fixture
def as_owner(roles: Roles) -> Iterator[sa.Engine]:
    engine = sa.create_engine(roles.owner_url, poolclass=sa.pool.NullPool)
    yield engine
    engine.dispose()


REFUSED_TO_THE_APP = [
    "ALTER TABLE audit_events DISABLE TRIGGER USER",
    "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only",
    "DROP TRIGGER audit_events_append_only ON audit_events",
    "DROP TRIGGER audit_events_no_truncate ON audit_events",
    "DROP FUNCTION audit_events_refuse_change()",
    "CREATE TRIGGER sneak BEFORE INSERT ON audit_events"
    " FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change()",
    "ALTER TABLE audit_events OWNER TO CURRENT_USER",
    "DROP TABLE audit_events",
    "UPDATE audit_events SET actor = 'someone else'",
    "DELETE FROM audit_events",
    "TRUNCATE audit_events",
    "UPDATE alembic_version SET version_num = '0001'",
    "DELETE FROM audit_chain",
    "INSERT INTO audit_chain (id, last_seq, last_hmac) VALUES (2, 0, '')",
]


@on_postgresql
@pytest.mark.no_transaction
@pytest.mark.parametrize("statement", REFUSED_TO_THE_APP)
def test_the_app_role_cannot_change_or_unguard_the_audit_trail(as_app, as_owner, statement):
    with as_app.connect() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM audit_events")) >= 0
        with pytest.raises(sa.exc.ProgrammingError) as refused:
            conn.execute(sa.text(statement))
        assert refused.value.orig.sqlstate == "42501", refused.value  # insufficient_privilege
        conn.rollback()
    with as_owner.connect() as conn:
        enabled = conn.execute(
            sa.text(
                "SELECT tgname, tgenabled FROM pg_trigger"
                " WHERE tgrelid = 'audit_events'::regclass AND NOT tgisinternal"
            )
        ).all()
    assert dict(enabled) == {"audit_events_append_only": "O", "audit_events_no_truncate": "O"}


@on_postgresql
@pytest.mark.no_transaction
def test_the_owner_still_can_lift_the_guard(as_owner):
    """Migrations (0014 masks old rows) lift and restore the guard: the owner may."""
    with as_owner.connect() as conn:
        conn.execute(sa.text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        conn.execute(sa.text("DROP TRIGGER audit_events_no_truncate ON audit_events"))
        conn.rollback()


@on_postgresql
@pytest.mark.no_transaction
def test_the_app_works_as_its_role(roles):
    """Accounts, projects and households are written as the app's role, each with audit rows;
    a person logs in."""
    from resettle.auth.models import Role
    from resettle.auth.services import create_user
    from resettle.households.services import HouseholdData, register_household
    from resettle.projects.services import ProjectData, create_project

    application = make_test_app(roles.app_url, MIGRATION_DATABASE_URL=roles.owner_url)
    with application.app_context():
        assert db.session.scalar(sa.text("SELECT current_user")) == roles.app
        before = db.session.scalar(sa.text("SELECT count(*) FROM audit_events"))
        user = create_user(
            db.session,
            "roles-caseworker",
            "角色测试",
            Role.CASEWORKER,
            PASSWORD,
            must_change=False,
            all_projects=True,
        )
        project = create_project(
            db.session,
            ProjectData(code="R0001", name="角色测试项目", signing_start=date(2025, 3, 1)),
        )
        register_household(
            db.session,
            project,
            HouseholdData(
                head_name="李四",
                head_id_number="110101199003074477",
                house_address="东城区角色路1号",
                legal_area=Decimal("60.00"),
            ),
            survey_date=date(2025, 3, 2),
            operator=user,
            today=date(2025, 3, 3),
        )
        db.session.commit()
        written = db.session.execute(
            sa.text("SELECT entity_type FROM audit_events WHERE id > 0 ORDER BY id")
        ).scalars()
        assert {"User", "ExpropriationProject", "Household", "CaseStep"} <= set(written)
        after = db.session.scalar(sa.text("SELECT count(*) FROM audit_events"))
        assert after > before
        with db.engine.connect() as conn:
            chained = verify(conn, chain_key(application.config))
        assert chained.broken is None and chained.last_seq == after
        db.session.remove()

    client = application.test_client()
    response = client.post("/login", data={"username": "roles-caseworker", "password": PASSWORD})
    assert response.status_code == 302 and "/login" not in response.location
    assert client.get("/households/").status_code == 200
    with application.app_context():
        logins = db.session.scalar(
            sa.text("SELECT count(*) FROM audit_events WHERE action = 'login'")
        )
        db.engine.dispose()
    assert logins == 1


EXPECTED_GRANTS = {
    "audit_events": {"SELECT", "INSERT"},
    "alembic_version": {"SELECT"},
    "audit_chain": {"SELECT", "UPDATE"},
    "households": {"SELECT", "INSERT", "UPDATE", "DELETE"},
    "users": {"SELECT", "INSERT", "UPDATE", "DELETE"},
}


def _grants(conn: sa.Connection, role: str) -> dict[str, set[str]]:
    rows = conn.execute(
        sa.text(
            "SELECT table_name, privilege_type FROM information_schema.role_table_grants"
            " WHERE grantee = :role AND table_schema = current_schema()"
        ),
        {"role": role},
    ).all()
    grants: dict[str, set[str]] = {}
    for table, privilege in rows:
        grants.setdefault(table, set()).add(privilege)
    return grants


@on_postgresql
@pytest.mark.no_transaction
def test_upgrade_takes_back_what_grant_all_gave(roles, as_owner):
    """An administrator's `GRANT ALL` is narrowed again by the next `flask db upgrade`, also
    with no revision to run."""
    with as_owner.begin() as conn:
        conn.execute(sa.text(f'GRANT ALL ON ALL TABLES IN SCHEMA public TO "{roles.app}"'))
        conn.execute(sa.text(f'GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO "{roles.app}"'))
        assert "TRUNCATE" in _grants(conn, roles.app)["audit_events"]
    application = make_test_app(roles.app_url, MIGRATION_DATABASE_URL=roles.owner_url)
    with application.app_context():
        upgrade()
    with as_owner.connect() as conn:
        grants = _grants(conn, roles.app)
        tables = sa.inspect(conn).get_table_names()
        sequences = conn.execute(
            sa.text(
                "SELECT sequence_name, has_sequence_privilege(:r, sequence_name, 'USAGE'),"
                " has_sequence_privilege(:r, sequence_name, 'UPDATE')"
                " FROM information_schema.sequences WHERE sequence_schema = current_schema()"
            ),
            {"r": roles.app},
        ).all()
    assert set(grants) == set(tables)
    for table, privileges in EXPECTED_GRANTS.items():
        assert grants[table] == privileges, table
    narrowed = {"audit_events", "alembic_version", "audit_chain"}
    assert all(
        grants[t] == {"SELECT", "INSERT", "UPDATE", "DELETE"} for t in grants.keys() - narrowed
    )
    assert "audit_events_id_seq" in {name for name, _usage, _update in sequences}
    assert all(usage and not update for _name, usage, update in sequences)


@on_postgresql
@pytest.mark.no_transaction
def test_a_role_belonging_to_the_owner_is_refused(roles):
    """A member of the owner role could drop the triggers whatever is granted: said, not
    granted over."""
    admin = sa.create_engine(roles.admin_url, poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'GRANT "{roles.owner}" TO "{roles.app}"'))
            with pytest.raises(AppRoleError, match="owner of audit_events"):
                grant_app_role(conn, roles.app)
            conn.rollback()
            conn.execute(sa.text(f'ALTER ROLE "{roles.app}" SUPERUSER'))
            with pytest.raises(AppRoleError, match="superuser"):
                grant_app_role(conn, roles.app)
            conn.rollback()
    finally:
        admin.dispose()


@pytest.mark.no_transaction
@pytest.mark.parametrize(
    ("app_url", "migration_url", "expected"),
    [
        (
            "postgresql://resettle_app:pw@db/resettle",
            "postgresql://resettle_owner:pw@db/resettle",
            "resettle_app",
        ),
        ("postgresql+psycopg://app@db/r", "postgres://owner@db/r", "app"),
        ("postgresql://same@db/r", "postgresql://same:other@db/r", None),
        ("postgresql://app@db/r", None, None),
        ("postgresql://app@db/r", "", None),
        ("postgresql:///r", "postgresql://owner@db/r", None),  # the app's user is not named
        ("sqlite:///x.sqlite3", "sqlite:///x.sqlite3", None),
    ],
)
def test_app_role_is_the_app_user_when_migrations_run_as_another(app_url, migration_url, expected):
    config = {"SQLALCHEMY_DATABASE_URI": app_url, "MIGRATION_DATABASE_URL": migration_url}
    assert app_role(config) == expected


@on_postgresql
@pytest.mark.no_transaction
def test_production_upgrade_warns_when_the_app_would_own_the_tables(roles, capfd):
    for url, settings, warned in (
        (roles.owner_url, {}, True),
        (roles.app_url, {"MIGRATION_DATABASE_URL": roles.owner_url}, False),
    ):
        application = make_test_app(url, **settings)
        application.config["ENV_NAME"] = "production"
        with application.app_context():
            upgrade()
            db.engine.dispose()
        assert ("connects as the owner of the tables" in capfd.readouterr().err) is warned


@on_postgresql
@pytest.mark.no_transaction
def test_a_backup_made_as_the_app_role_restores_with_the_same_grants(roles, tmp_path):
    """pg_dump runs as the application's role; the restore runs as the owner into a new
    database and gives the application's role back exactly its privileges."""
    from resettle.audit.services import acting_as, record_event

    source = make_test_app(roles.app_url, MIGRATION_DATABASE_URL=roles.owner_url)
    with source.app_context(), acting_as("test"):
        record_event(db.session, "export", "Household", None, {"rows": 1})
        db.session.commit()
    backup = tmp_path / "roles.backup"
    made = source.test_cli_runner().invoke(args=["backup", "create", str(backup)])
    assert made.exit_code == 0, made.output
    with source.app_context():
        db.engine.dispose()

    base = sa.make_url(roles.owner_url)
    copy = f"{base.database}_restored"
    admin = _autocommit(sa.make_url(roles.admin_url).set(database="postgres"))
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{copy}" OWNER "{roles.owner}"'))
    try:
        target = make_test_app(
            sa.make_url(roles.app_url).set(database=copy).render_as_string(hide_password=False),
            MIGRATION_DATABASE_URL=base.set(database=copy).render_as_string(hide_password=False),
        )
        restored = target.test_cli_runner().invoke(args=["backup", "restore", str(backup)])
        assert restored.exit_code == 0, restored.output
        with target.app_context():
            connection = db.session.connection()
            assert verify(connection, chain_key(target.config)).ok
            with pytest.raises(sa.exc.ProgrammingError) as refused:
                connection.execute(sa.text("UPDATE audit_events SET actor = 'x'"))
            assert refused.value.orig.sqlstate == "42501"
            db.session.rollback()
            db.session.remove()
            db.engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)'))
        admin.dispose()
