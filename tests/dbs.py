"""Test databases: a SQLite file, or a fresh PostgreSQL database named after its purpose."""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa

from config import normalise_database_url


def postgres_url() -> str | None:
    """The PostgreSQL URL the suite runs on, or None when it runs on SQLite."""
    url = os.environ.get("TEST_DATABASE_URL")
    return normalise_database_url(url) if url else None


def fresh_database(purpose: str, tmp_dir: Path) -> str:
    """A URL to an empty database for `purpose` on the backend this run uses."""
    pg = postgres_url()
    if pg is None:
        path = tmp_dir / f"{purpose}.sqlite3"
        if path.exists():
            path.unlink()
        return f"sqlite:///{path}"
    base = sa.make_url(pg)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    name = f"{base.database}_{purpose}{('_' + worker) if worker else ''}"
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def backend_name() -> str:
    return "postgresql" if postgres_url() else "sqlite"
