"""Shared by the audit tests: lifting the append-only guard as the tables' owner could."""

from __future__ import annotations

import sqlalchemy as sa


def lift_audit_guard(conn: sa.Connection) -> None:
    """What someone who owns audit_events can do behind the application's back: drop the
    triggers (SQLite) or disable them (PostgreSQL), so UPDATE and DELETE go through."""
    if conn.dialect.name == "sqlite":
        conn.execute(sa.text("DROP TRIGGER IF EXISTS audit_events_no_update"))
        conn.execute(sa.text("DROP TRIGGER IF EXISTS audit_events_no_delete"))
    else:
        conn.execute(sa.text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
