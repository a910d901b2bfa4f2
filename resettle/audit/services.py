"""Writes the audit trail: every insert, update and delete in the same transaction.

Personal data is masked at write time. A value of a column `privacy.PII_FIELDS` names (ID
numbers, phones, bank accounts) is stored as {"masked": "110105********002X", "hmac": "..."}:
the masked form and a keyed hash (HMAC-SHA256 with a key from the configuration, never in the
database) of the full value. So a row still tells who changed the number, when, and whether
it really changed (equal hashes: the same number), and an editor can check a candidate old
number (`privacy.pii_matches`), but neither the database, its backups nor an audit page holds
a full number; the household page is where editors read the current one. Rows are write-once
(triggers refuse UPDATE, and issue 15 chains them with an HMAC), so nothing is rewritten later:
masking at write time is the choice that stays sound under both. Secrets (`__audit_redact__`,
password hashes) are not even hashed: they are stored as ***.
"""

from __future__ import annotations

import contextlib
import contextvars
import enum
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Session, object_mapper
from sqlalchemy.orm.exc import UnmappedInstanceError

from resettle.audit.chain import CONTENT_COLUMNS, chain
from resettle.audit.models import AuditEvent
from resettle.db import core_connection, utcnow
from resettle.privacy import PII_FIELDS, audit_pii_value

REDACTED = "***"
_cli_actor: contextvars.ContextVar[tuple[int | None, str] | None] = contextvars.ContextVar(
    "audit_actor", default=None
)
# Columns that change as a side effect of other audited events and would only add noise.
_ALWAYS_SKIP = frozenset({"version_id", "updated_at"})


@contextlib.contextmanager
def acting_as(name: str, user_id: int | None = None) -> Iterator[None]:
    """Attribute changes made outside a request (CLI, imports, seeds) to `name`."""
    token = _cli_actor.set((user_id, name))
    try:
        yield
    finally:
        _cli_actor.reset(token)


def current_actor() -> tuple[int | None, str, str | None, str | None]:
    """Who is acting now: (user id, display name, IP, request id)."""
    if has_request_context():
        from resettle.auth.policy import session_user

        ip = request.remote_addr
        request_id = g.get("request_id")
        user = session_user()
        if user is not None:
            return user.id, user.username, ip, request_id
        return None, "anonymous", ip, request_id
    actor = _cli_actor.get()
    if actor is not None:
        return actor[0], actor[1], None, None
    return None, "system", None, None


def audit_value(value: Any) -> Any:
    """A JSON-safe form of a column value (Decimal and dates as strings)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def _row(action: str, obj: Any, changes: dict[str, list[Any]]) -> dict[str, Any]:
    user_id, actor, ip, request_id = current_actor()
    return {
        "occurred_at": utcnow(),
        "user_id": user_id,
        "actor": actor,
        "ip": ip,
        "request_id": request_id,
        "action": action,
        "entity_type": type(obj).__name__,
        # (a record whose id is not a number, a job's uuid, is named by its changes only)
        "entity_id": entity_id if isinstance(entity_id := getattr(obj, "id", None), int) else None,
        "changes": changes,
    }


def _rules(cls: type) -> tuple[frozenset[str], frozenset[str]]:
    """The columns a model's audit rows leave out, and those they show as ***."""
    skip = _ALWAYS_SKIP | getattr(cls, "__audit_skip__", frozenset())
    return skip, getattr(cls, "__audit_redact__", frozenset())


def _inserted(
    values: dict[str, Any], skip: frozenset[str], redact: frozenset[str], plain: Any = audit_value
) -> dict[str, list[Any]]:
    """The changes of an inserted row: every value that is not None, old value None."""
    return {
        key: [
            None,
            REDACTED
            if key in redact
            else audit_pii_value(key, value)
            if key in PII_FIELDS
            else plain(value),
        ]
        for key, value in values.items()
        if value is not None and key not in skip
    }


def _changes(obj: Any, action: str) -> dict[str, list[Any]]:
    mapper = object_mapper(obj)
    state = sa.inspect(obj)
    skip, redact = _rules(type(obj))
    if action == "insert":
        return _inserted(
            {a.key: state.attrs[a.key].value for a in mapper.column_attrs}, skip, redact
        )
    out: dict[str, list[Any]] = {}
    for attr in mapper.column_attrs:
        key = attr.key
        if key in skip:
            continue
        hist = state.attrs[key].history
        if action == "delete":
            old = hist.deleted[0] if hist.deleted else state.attrs[key].value
            new = None
        else:
            if not hist.has_changes():
                continue
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            if old == new:
                continue
        if key in redact:
            old, new = (REDACTED if old is not None else None), REDACTED
        elif key in PII_FIELDS:
            old, new = audit_pii_value(key, old), audit_pii_value(key, new)
        out[key] = [audit_value(old), audit_value(new)]
    return out


_JSON_NATIVE = frozenset({str, int})


def record_core_inserts(
    session: Session | sa.Connection, model: type, rows: list[dict[str, Any]]
) -> None:
    """Audit rows inserted with Core (bulk imports), by the flush listener's own rules: the same
    columns skipped and redacted, the same values. Each row needs its "id"."""
    if not rows:
        return
    user_id, actor, ip, request_id = current_actor()
    now = utcnow()
    skip, redact = _rules(model)
    shown: dict[Any, Any] = {}  # dates, times and enums repeat: convert each once

    def plain(value: Any) -> Any:
        kind = type(value)
        if kind in _JSON_NATIVE:
            return value
        if not isinstance(value, date | enum.Enum):  # (Decimal: 1.0 == 1.00, read differently)
            return audit_value(value)
        key = (kind, value)
        if key not in shown:
            shown[key] = audit_value(value)
        return shown[key]

    events = [
        {
            "occurred_at": now,
            "user_id": user_id,
            "actor": actor,
            "ip": ip,
            "request_id": request_id,
            "action": "insert",
            "entity_type": model.__name__,
            "entity_id": row["id"],
            "changes": _inserted(row, skip, redact, plain),
        }
        for row in rows
    ]
    connection = core_connection(session)
    chain(connection, events)
    connection.execute(sa.insert(AuditEvent.__table__), events)


@event.listens_for(AuditEvent, "before_insert")
def _chain_orm_event(mapper: Any, connection: sa.Connection, event_row: AuditEvent) -> None:
    """An AuditEvent added through the ORM takes its place in the chain like every other row."""
    if event_row.occurred_at is None:
        event_row.occurred_at = utcnow()
    if event_row.changes is None:
        event_row.changes = {}
    row = {name: getattr(event_row, name) for name in CONTENT_COLUMNS}
    chain(connection, [row])
    event_row.chain_seq, event_row.chain_hmac = row["chain_seq"], row["chain_hmac"]


@event.listens_for(Session, "after_flush")
def _audit_after_flush(session: Session, flush_context: Any) -> None:
    rows: list[dict[str, Any]] = []
    for action, objects in (
        ("insert", session.new),
        ("update", session.dirty),
        ("delete", session.deleted),
    ):
        for obj in objects:
            if isinstance(obj, AuditEvent):
                continue
            try:
                object_mapper(obj)
            except UnmappedInstanceError:
                continue
            if action == "update" and not session.is_modified(obj, include_collections=False):
                continue
            changes = _changes(obj, action)
            if action == "update" and not changes:
                continue
            rows.append(_row(action, obj, changes))
    if rows:
        connection = session.connection()
        chain(connection, rows)
        connection.execute(sa.insert(AuditEvent.__table__), rows)


def record_event(
    session: Session | sa.Connection,
    action: str,
    entity_type: str,
    entity_id: int | None,
    changes: dict[str, Any] | None = None,
    *,
    actor: str | None = None,
    user_id: int | None = None,
) -> None:
    """Record an event that is not a row change (login, failed login, lockout, logout)."""
    cur_user_id, cur_actor, ip, request_id = current_actor()
    # A prebuilt Core insert, at once: no unit-of-work flush for a row nobody edits (the
    # public lookup writes one per request).
    row = {
        "occurred_at": utcnow(),
        "user_id": user_id if user_id is not None else cur_user_id,
        "actor": actor or cur_actor,
        "ip": ip,
        "request_id": request_id,
        "action": action,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "changes": changes or {},
    }
    connection = core_connection(session)
    chain(connection, [row])
    connection.execute(_INSERT_EVENT, row)


_INSERT_EVENT = sa.insert(AuditEvent.__table__)


def history(session: Session, entity_type: str, entity_id: int) -> list[AuditEvent]:
    """The audit events of one record, newest first."""
    return list(
        session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id)
            .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        )
    )
