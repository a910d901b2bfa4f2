"""Two database roles on PostgreSQL: the owner migrates, the application's role only uses.

The owner role (`MIGRATION_DATABASE_URL`) creates and alters the tables, so it owns them and
their triggers. The application's role (`DATABASE_URL`) reads and writes rows, but on
`audit_events` it may only SELECT and INSERT: it cannot UPDATE, DELETE or TRUNCATE there, and,
owning nothing, it cannot disable or drop the append-only triggers either. `flask db upgrade`
calls `grant_app_role` after every run (migrations/env.py), so tables added by a migration are
granted too; a restored backup calls it after pg_restore.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from config import normalise_database_url

# Tables the application's role may use less than fully; every other table of the schema gets
# SELECT, INSERT, UPDATE, DELETE (and every sequence USAGE, SELECT).
RESTRICTED_TABLES = {
    "audit_events": ("SELECT", "INSERT"),  # append-only: rows are added, never changed
    "audit_chain": ("SELECT", "UPDATE"),  # the chain's head row, moved on by each audit write
    "alembic_version": ("SELECT",),  # only migrations say which revision the schema is at
}
# What the application's role must not be able to do to the audit trail.
_AUDIT_FORBIDDEN = ("UPDATE", "DELETE", "TRUNCATE", "TRIGGER")


class AppRoleError(RuntimeError):
    """The application's role could still change the audit trail; the message says why."""


def migration_database_url(config: Mapping[str, Any]) -> str | None:
    """The URL migrations run on (`MIGRATION_DATABASE_URL`), or None for the app's own."""
    url = config.get("MIGRATION_DATABASE_URL")
    return normalise_database_url(str(url)) if url else None


def app_role(config: Mapping[str, Any]) -> str | None:
    """The user the application connects as on PostgreSQL, when migrations connect as another
    one (the owner); else None, and there is nothing to grant. Both URLs must name their user."""
    migration_url = migration_database_url(config)
    app_url = config.get("SQLALCHEMY_DATABASE_URI")
    if not migration_url or not app_url:
        return None
    owner = sa.make_url(migration_url)
    app = sa.make_url(normalise_database_url(str(app_url)))
    if owner.get_backend_name() != "postgresql" or app.get_backend_name() != "postgresql":
        return None
    if not app.username or not owner.username or app.username == owner.username:
        return None
    return app.username


def grant_app_role(connection: sa.Connection, role: str) -> None:
    """Give `role` exactly the privileges the application needs on the current schema's tables
    and sequences, taking back any others (also after `GRANT ALL`), run as the tables' owner.
    Raises AppRoleError when `role` could still change `audit_events` (a superuser, a member of
    the owner role, or a grant to PUBLIC)."""
    quote = connection.dialect.identifier_preparer.quote
    schema = connection.execute(sa.text("SELECT current_schema()")).scalar_one()
    grantee, in_schema = quote(role), quote(schema)
    tables = set(sa.inspect(connection).get_table_names(schema=schema))
    statements = [
        f"GRANT USAGE ON SCHEMA {in_schema} TO {grantee}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {in_schema} FROM {grantee}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {in_schema} TO {grantee}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {in_schema} FROM {grantee}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {in_schema} TO {grantee}",
    ]
    for table, privileges in RESTRICTED_TABLES.items():
        if table in tables:
            name = f"{in_schema}.{quote(table)}"
            statements.append(f"REVOKE ALL ON {name} FROM {grantee}")
            statements.append(f"GRANT {', '.join(privileges)} ON {name} TO {grantee}")
    for statement in statements:
        connection.execute(sa.text(statement))
    if "audit_events" in tables:
        _refuse_audit_writer(connection, role, f"{in_schema}.{quote('audit_events')}")


def _refuse_audit_writer(connection: sa.Connection, role: str, table: str) -> None:
    """Raise AppRoleError if `role` may still do more than add rows to the audit trail."""
    row = connection.execute(
        sa.text(
            "SELECT r.rolsuper, pg_has_role(:role, c.relowner, 'MEMBER') AS owns,"
            " pg_get_userbyid(c.relowner) AS owner"
            " FROM pg_roles r, pg_class c WHERE r.rolname = :role AND c.oid = CAST(:t AS regclass)"
        ),
        {"role": role, "t": table},
    ).one()
    if row.rolsuper:
        raise AppRoleError(
            f"the database role {role!r} is a superuser: it can change the audit trail. "
            "Let the application connect as a role without SUPERUSER (see README.md)."
        )
    if row.owns:
        raise AppRoleError(
            f"the database role {role!r} is (or is a member of) {row.owner!r}, the owner of "
            "audit_events: it could drop the append-only triggers. Give the tables to the "
            "migration role (REASSIGN OWNED) and revoke the membership (see README.md)."
        )
    allowed = [
        privilege
        for privilege in _AUDIT_FORBIDDEN
        if connection.execute(
            sa.text("SELECT has_table_privilege(:role, CAST(:t AS regclass), :p)"),
            {"role": role, "t": table, "p": privilege},
        ).scalar_one()
    ]
    if allowed:
        raise AppRoleError(
            f"the database role {role!r} still has {', '.join(allowed)} on audit_events, "
            "through PUBLIC or another role it belongs to: revoke it there (see README.md)."
        )
