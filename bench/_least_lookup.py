"""A yardstick of bench_public.py: the least any lookup does, as a bare Flask app.

It counts the try in Redis (one round trip), reads one row, commits one audit row and
renders a compiled template of nine lines, with SQLAlchemy Core on the bench's database and
nothing else: no sessions, forms, limits, hooks or ORM. The database is used on the app's own
settings (resettle.db: WAL and synchronous=NORMAL on SQLite; the read ends before the audit row
takes the write lock, as in the lookup). What it reaches on a machine is a ceiling for the
real status lookup there, which does all of that and more.
"""

import os

import redis
import sqlalchemy as sa
from flask import Flask, request

import resettle.db  # noqa: F401  (the app's connection settings, on every engine)

app = Flask(__name__)
engine = sa.create_engine(os.environ.get("DATABASE_URL", "sqlite://"))
metadata = sa.MetaData()
cases = sa.Table(
    "yardstick_cases",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("case_number", sa.String(40), unique=True),
    sa.Column("name", sa.String(64)),
)
events = sa.Table(
    "yardstick_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("case_key", sa.String(40)),
    sa.Column("found", sa.Boolean),
)


def prepare(url: str) -> None:
    """Create and fill the yardstick's two tables (before the workers start)."""
    setup = sa.create_engine(url)
    with setup.begin() as conn:
        metadata.create_all(conn)
        if conn.scalar(sa.select(sa.func.count()).select_from(cases)) == 0:
            rows = [{"case_number": f"Y-{n}", "name": "张*"} for n in range(400)]
            conn.execute(sa.insert(cases), rows)
    setup.dispose()


limits = redis.Redis.from_url(os.environ.get("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379"))
FIND = sa.select(cases.c.id, cases.c.name).where(cases.c.case_number == sa.bindparam("number"))
AUDIT = sa.insert(events)
PAGE = app.jinja_env.from_string(
    "<!doctype html><title>{{ number }}</title><ol>"
    "{% for i in range(9) %}<li>{{ name }} · {{ i }}</li>{% endfor %}</ol>"
)


@app.post("/lookup")
def lookup() -> str:
    number = request.form.get("case_number", "")
    limits.incr("yardstick:" + (request.remote_addr or ""))
    with engine.connect() as conn:
        row = conn.execute(FIND, {"number": number}).first()
        if conn.dialect.name == "sqlite":
            conn.commit()
            conn.execution_options(sqlite_begin_immediate=True)
        conn.execute(AUDIT, {"case_key": number, "found": row is not None})
        conn.commit()
    return PAGE.render(number=number, name=row.name if row else "")
