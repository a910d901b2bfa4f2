"""The audit chain: every audit row carries an HMAC over its content and the previous row's HMAC.

Triggers refuse UPDATE and DELETE on `audit_events`, but whoever owns the table can drop them;
the chain is what shows that it happened. Each row gets a position (`chain_seq`: 1, 2, 3, ...
without gaps) and `chain_hmac` = HMAC-SHA256(key, previous row's chain_hmac + the row's content
in a canonical form). The key comes from the settings (AUDIT_CHAIN_KEY, else derived from
SECRET_KEY) and is never in the database, so nobody with only the database can write a row
that verifies. A changed row no longer matches its HMAC; a deleted row leaves a gap in the
positions; a row inserted behind the application has no position or a forged HMAC; and the
head row (`audit_chain`: the last position and HMAC written) shows rows cut off the end.

Writes stay in the transaction of the change: the first audit row of a transaction takes the
head row's lock (an UPDATE, also the write lock on SQLite) and holds it until commit, so
concurrent writers queue for their positions and never fork the chain. A rollback rolls the
head back with the rows.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

GENESIS = "0" * 64  # the "previous HMAC" of the first row
HEAD_ID = 1
# The columns the HMAC covers, in this order (all but `id`, a surrogate key the chain does not
# need: positions order the rows).
CONTENT_COLUMNS = (
    "chain_seq",
    "occurred_at",
    "user_id",
    "actor",
    "ip",
    "request_id",
    "action",
    "entity_type",
    "entity_id",
    "changes",
)

audit_chain = sa.table(
    "audit_chain",
    sa.column("id", sa.Integer),
    sa.column("last_seq", sa.BigInteger),
    sa.column("last_hmac", sa.String),
    sa.column("key_check", sa.String),
    sa.column("base_seq", sa.BigInteger),
    sa.column("base_hmac", sa.String),
)
PRUNED = "audit_pruned"  # the event that moves the chain's start

_TAKE_HEAD = (
    sa.update(audit_chain)
    .where(audit_chain.c.id == HEAD_ID)
    .values(last_seq=audit_chain.c.last_seq)
    .returning(audit_chain.c.last_seq, audit_chain.c.last_hmac)
)
_MOVE_HEAD = (
    sa.update(audit_chain)
    .where(audit_chain.c.id == HEAD_ID)
    .values(last_seq=sa.bindparam("seq"), last_hmac=sa.bindparam("hmac"))
)


def chain_key(config: Mapping[str, Any]) -> bytes:
    """The chain's key: AUDIT_CHAIN_KEY when set, else one derived from SECRET_KEY."""
    secret = config.get("AUDIT_CHAIN_KEY") or config["SECRET_KEY"]
    if isinstance(secret, str):
        secret = secret.encode()
    return hmac.new(secret, b"resettle audit chain v1", hashlib.sha256).digest()


def key_check(key: bytes) -> str:
    """A fingerprint of the key kept with the head, so a wrong key is named as such instead of
    every row looking changed. It tells nothing about the key."""
    return hmac.new(key, b"key check", hashlib.sha256).hexdigest()[:16]


def _current_key() -> bytes:
    from flask import current_app

    return chain_key(current_app.config)


def _timestamp(value: datetime) -> str:
    if value.tzinfo is None:  # read back from SQLite without the UTC type
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(row: Mapping[str, Any]) -> bytes:
    """A row's content as the bytes its HMAC covers: the same for the values written and for
    the values read back (JSON with sorted keys; times in UTC to the microsecond)."""
    values = [row.get(name) for name in CONTENT_COLUMNS]
    values[1] = _timestamp(values[1])
    changes = values[-1]
    if isinstance(changes, str):  # a JSON column read as text
        changes = json.loads(changes)
    values[-1] = changes if changes is not None else {}
    return json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def link(key: bytes, previous: str, row: Mapping[str, Any]) -> str:
    """The HMAC of `row` following a row whose HMAC is `previous`."""
    return hmac.new(key, previous.encode() + canonical(row), hashlib.sha256).hexdigest()


def chain(connection: sa.Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Give `rows` (about to be inserted, in order, on `connection`) their positions and HMACs,
    and move the head past them. The head stays locked until the transaction ends."""
    if not rows:
        return
    head = connection.execute(_TAKE_HEAD).one_or_none()
    if head is None:
        raise RuntimeError("the audit chain has no head row: run `flask db upgrade`")
    key = _current_key()
    seq, previous = head.last_seq, head.last_hmac
    for row in rows:
        seq += 1
        row["chain_seq"] = seq
        previous = row["chain_hmac"] = link(key, previous, row)
    connection.execute(_MOVE_HEAD, {"seq": seq, "hmac": previous})


def head_position(connection: sa.Connection) -> int:
    """The chain's last position (0 when it has no head)."""
    value = connection.execute(
        sa.select(audit_chain.c.last_seq).where(audit_chain.c.id == HEAD_ID)
    ).scalar()
    return int(value or 0)


@dataclass(frozen=True)
class Break:
    """Where verification stopped: the row (its id and position, when it has them) and why."""

    event_id: int | None
    seq: int | None
    reason: str  # no_head, key, unchained, before_start, start_moved, missing, duplicate,
    # changed, cut, head
    detail: dict[str, Any]


@dataclass(frozen=True)
class Verification:
    rows: int
    last_seq: int
    broken: Break | None

    @property
    def ok(self) -> bool:
        return self.broken is None


def _columns(events: sa.TableClause | sa.Table) -> list[Any]:
    return [events.c.id, events.c.chain_hmac, *(events.c[name] for name in CONTENT_COLUMNS)]


def _walk(connection: sa.Connection, events: Any, chunk: int, end: int) -> Iterator[sa.Row]:
    """The chained rows up to position `end`, by position, read in chunks (keyset paging)."""
    last = 0
    while True:
        rows = connection.execute(
            sa.select(*_columns(events))
            .where(events.c.chain_seq > last, events.c.chain_seq <= end)
            .order_by(events.c.chain_seq, events.c.id)
            .limit(chunk)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].chain_seq


def _start(connection: sa.Connection, events: Any, head: sa.Row) -> Break | None:
    """Where the chain starts must be where a pruning, itself in the chain, said it would:
    no row may lie before it, and a start past 0 needs its audit_pruned event."""
    if not head.base_seq:
        return None
    earlier = connection.execute(
        sa.select(events.c.id, events.c.chain_seq)
        .where(events.c.chain_seq <= head.base_seq)
        .order_by(events.c.chain_seq)
        .limit(1)
    ).first()
    if earlier is not None:
        return Break(earlier.id, earlier.chain_seq, "before_start", {"start": head.base_seq})
    for (changes,) in connection.execute(
        sa.select(events.c.changes).where(
            events.c.action == PRUNED, events.c.chain_seq > head.base_seq
        )
    ):
        if isinstance(changes, str):
            changes = json.loads(changes)
        if changes.get("up_to", [None, None])[1] == head.base_seq and (
            changes.get("hmac", [None, None])[1] == head.base_hmac
        ):
            return None
    return Break(None, head.base_seq, "start_moved", {})


def verify(
    connection: sa.Connection,
    key: bytes,
    *,
    events: Any = None,
    chunk: int = 5000,
    progress: Any = None,
) -> Verification:
    """Walk the chain from its first row to the head and stop at the first row that does not
    match. Rows written while it walks lie beyond the head it read first and wait for the next
    run. `progress(done)` is called after each chunk (for a progress bar)."""
    if events is None:
        from resettle.audit.models import AuditEvent

        events = AuditEvent.__table__
    head = connection.execute(
        sa.select(
            audit_chain.c.last_seq,
            audit_chain.c.last_hmac,
            audit_chain.c.key_check,
            audit_chain.c.base_seq,
            audit_chain.c.base_hmac,
        ).where(audit_chain.c.id == HEAD_ID)
    ).one_or_none()
    if head is None:
        return Verification(0, 0, Break(None, None, "no_head", {}))
    if head.key_check and head.key_check != key_check(key):
        return Verification(0, 0, Break(None, None, "key", {}))
    unchained = connection.execute(
        sa.select(events.c.id)
        .where(sa.or_(events.c.chain_seq.is_(None), events.c.chain_hmac.is_(None)))
        .order_by(events.c.id)
        .limit(1)
    ).scalar()
    if unchained is not None:
        return Verification(0, 0, Break(unchained, None, "unchained", {}))
    start = _start(connection, events, head)
    if start is not None:
        return Verification(0, head.base_seq, start)
    previous, expected, count = head.base_hmac, head.base_seq + 1, 0
    for row in _walk(connection, events, chunk, head.last_seq):
        values = row._mapping
        if row.chain_seq != expected:
            reason = "missing" if row.chain_seq > expected else "duplicate"
            detail = {"first": expected, "last": row.chain_seq - 1}
            return Verification(count, expected - 1, Break(row.id, row.chain_seq, reason, detail))
        if not hmac.compare_digest(link(key, previous, values), row.chain_hmac):
            return Verification(count, expected - 1, Break(row.id, row.chain_seq, "changed", {}))
        previous, expected, count = row.chain_hmac, expected + 1, count + 1
        if progress is not None and count % chunk == 0:
            progress(count)
    last_seq = expected - 1
    if head.last_seq > last_seq:
        detail = {"first": last_seq + 1, "last": head.last_seq}
        return Verification(count, last_seq, Break(None, last_seq + 1, "cut", detail))
    if count and head.last_hmac != previous:
        return Verification(count, last_seq, Break(None, last_seq, "head", {}))
    return Verification(count, last_seq, None)


def explain(result: Verification) -> str:
    """What a verification found, in the user's language: the first row that does not match."""
    from resettle.translate import gettext as _

    broken = result.broken
    if broken is None:
        return _(
            "The audit chain holds: %(rows)s rows, positions %(first)s to %(last)s, every HMAC "
            "matches.",
            rows=result.rows,
            first=result.last_seq - result.rows + 1,
            last=result.last_seq,
        )
    values = {"id": broken.event_id, "seq": broken.seq, **broken.detail}
    messages = {  # (lambdas: only the message that applies is formatted)
        "no_head": lambda: _("The audit chain has no head row: run `flask db upgrade`."),
        "key": lambda: _(
            "AUDIT_CHAIN_KEY (or SECRET_KEY) is not the key this chain was written with: verify "
            "with the installation's settings."
        ),
        "unchained": lambda: _(
            "Audit row %(id)s has no place in the chain: it was written behind the "
            "application's back.",
            **values,
        ),
        "missing": lambda: _(
            "Audit rows at positions %(first)s to %(last)s are missing (deleted); the chain "
            "resumes at row %(id)s.",
            **values,
        ),
        "duplicate": lambda: _(
            "Audit row %(id)s repeats position %(seq)s: it was inserted out of order.", **values
        ),
        "before_start": lambda: _(
            "Audit row %(id)s (position %(seq)s) lies before the chain's recorded start "
            "(position %(start)s): the start was moved.",
            **values,
        ),
        "start_moved": lambda: _(
            "The audit chain starts after position %(seq)s, but no pruning recorded that start: "
            "rows were deleted from its beginning.",
            **values,
        ),
        "changed": lambda: _(
            "Audit row %(id)s (position %(seq)s) does not match its HMAC: it was changed after "
            "it was written, or inserted with a forged HMAC.",
            **values,
        ),
        "cut": lambda: _(
            "The last audit rows, positions %(first)s to %(last)s, are missing: they were deleted.",
            **values,
        ),
        "head": lambda: _(
            "The end of the audit chain does not match its last row (position %(seq)s): the "
            "head row was changed.",
            **values,
        ),
    }
    return messages[broken.reason]()
