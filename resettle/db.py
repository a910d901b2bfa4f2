"""Declarative base, naming convention and shared column types."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

FEN = Decimal("0.01")


def money(value: Decimal | int | str) -> Decimal:
    """Quantize an amount to the fen, rounding half up."""
    return Decimal(value).quantize(FEN, rounding=ROUND_HALF_UP)


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """Aware UTC datetimes on every database (SQLite drops the zone; this puts it back)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC time is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Money = sa.Numeric(14, 2)
Area = sa.Numeric(10, 2)


def str_enum(enum_cls: type[enum.Enum], name: str) -> sa.Enum:
    """An enum stored as a string with a CHECK constraint, by value."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls) + 4,
        values_callable=lambda cls: [m.value for m in cls],
        validate_strings=True,
    )


# The largest whole number an Integer column holds on every database (4 bytes on PostgreSQL).
INTEGER_MAX = 2**31 - 1


def database_int(value: str) -> int:
    """An integer that an Integer column can hold, from text (a query string, a form value, an
    item key); ValueError for anything else (a word, ², 99999999999999999999). With
    `request.args.get(name, type=database_int)` such a value counts as not given."""
    number = int(value)
    if not -INTEGER_MAX <= number <= INTEGER_MAX:
        raise ValueError(value)
    return number


def core_connection(session: Session | scoped_session | sa.Connection) -> sa.Connection:
    """The connection to run a prebuilt Core statement on, after flushing what the session
    has pending (as `session.execute` would). Prebuilt statements executed on the connection
    cost about a quarter of building one and running it through the ORM session: the hot
    public paths use them."""
    if isinstance(session, sa.Connection):
        return session
    if session.autoflush:  # a Session, or Flask-SQLAlchemy's scoped session
        session.flush()
    return session.connection()


def begin_write(session: Session | scoped_session, *, must_open: bool = False) -> None:
    """Open the transaction of work that reads and then writes (a login counts the try, an
    allocation takes a flat, a notice takes a number): on SQLite it takes the write lock at
    BEGIN (BEGIN IMMEDIATE), so such work at the same moment waits its turn instead of failing
    with "database is locked" when the read is upgraded. With a transaction open already nothing
    happens, or, with `must_open`, RuntimeError (the caller has to commit or roll back first)."""
    current = session() if isinstance(session, scoped_session) else session
    if current.in_transaction():
        if must_open:
            raise RuntimeError("the write transaction must be opened first: commit or roll back")
        return
    session.connection(execution_options={"sqlite_begin_immediate": True})


def parses_before_writing(view: Any) -> Any:
    """Mark a view that reads an upload for seconds before it writes: its POST is not queued on
    SQLite's write lock from the start (the app's `queue_staff_writes`), so it does not hold
    every other save up while it parses."""
    view.parses_before_writing = True
    return view


# SQLSTATEs of PostgreSQL that mean "another transaction got there first": a unique
# violation, a serialization failure and a deadlock.
_PG_UNIQUE_VIOLATION = "23505"
_PG_RETRY_STATES = frozenset({"40001", "40P01"})


def write_collision(exc: BaseException, metadata: sa.MetaData) -> str | None:
    """What a failed write says about requests at the same moment: "conflict" when another one
    saved first (a row changed under an ORM version check, a unique constraint or index of
    `metadata` refused the second copy, PostgreSQL chose a deadlock or serialization victim),
    "busy" when SQLite's write lock stayed taken longer than the busy timeout, else None (a
    real error). A double submit or two people at once end in one of the first two."""
    from sqlalchemy.orm.exc import StaleDataError

    if isinstance(exc, StaleDataError):
        return "conflict"
    if not isinstance(exc, sa.exc.DBAPIError):
        return None
    original = exc.orig
    state = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    text = str(original)
    if isinstance(exc, sa.exc.IntegrityError):
        if state == _PG_UNIQUE_VIOLATION:
            diag = getattr(original, "diag", None)
            name = getattr(diag, "constraint_name", None)
            return "conflict" if name in _unique_names(metadata) else None
        if text.startswith("UNIQUE constraint failed: "):  # SQLite names table.column, …
            columns = text.removeprefix("UNIQUE constraint failed: ").split(", ")
            return "conflict" if tuple(columns) in _unique_columns(metadata) else None
        return None
    if isinstance(exc, sa.exc.OperationalError):
        if state in _PG_RETRY_STATES:
            return "conflict"
        if text in ("database is locked", "database table is locked"):
            return "busy"
    return None


def _unique_names(metadata: sa.MetaData) -> set[str]:
    """The names of the unique constraints and unique indexes (PostgreSQL reports these)."""
    names: set[str] = set()
    for table in metadata.tables.values():
        names.update(
            str(c.name)
            for c in table.constraints
            if isinstance(c, sa.UniqueConstraint | sa.PrimaryKeyConstraint) and c.name
        )
        names.update(str(i.name) for i in table.indexes if i.unique and i.name)
    return names


def _unique_columns(metadata: sa.MetaData) -> set[tuple[str, ...]]:
    """The `table.column` lists of the unique constraints and indexes (SQLite reports these)."""
    found: set[tuple[str, ...]] = set()
    for table in metadata.tables.values():
        keys = [
            c.columns
            for c in table.constraints
            if isinstance(c, sa.UniqueConstraint | sa.PrimaryKeyConstraint)
        ] + [i.columns for i in table.indexes if i.unique]
        for columns in keys:
            found.add(tuple(f"{table.name}.{column.name}" for column in columns))
    return found


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    """Foreign keys on, and let SQLAlchemy (not pysqlite) emit BEGIN so savepoints work."""
    module = type(dbapi_connection).__module__
    if "sqlite" not in module:
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    # A file database in WAL mode: readers go on while one request writes (several workers).
    if cursor.execute("PRAGMA database_list").fetchone()[2]:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn: sa.Connection) -> None:
    """SQLite: emit BEGIN; with the execution option `sqlite_begin_immediate` take the write
    lock at once (BEGIN IMMEDIATE), so concurrent writers queue on busy_timeout instead of
    failing with "database is locked" when a reader upgrades (sites.services.begin_allocation)."""
    if conn.dialect.name == "sqlite":
        immediate = conn.get_execution_options().get("sqlite_begin_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
