"""How long audit rows are kept, and pruning the oldest ones once that has passed.

The Cybersecurity Law (网络安全法 Art. 21) asks for network logs to be kept at least six months:
AUDIT_RETENTION_DAYS is 0 (kept for ever, the default) or at least 180, else the application
refuses to start. `flask audit prune` removes the rows older than that from the beginning of the
chain, only when the whole chain verifies (pruning must not destroy the evidence of tampering),
as the tables' owner (the application's role may not delete audit rows). The chain's start
moves past them, and the pruning itself is the chain's next row, holding that start: a start
moved without it, or a row left before it, is what `flask audit verify` names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from resettle.audit.chain import HEAD_ID, PRUNED, audit_chain, chain_key, explain, verify
from resettle.audit.services import record_event
from resettle.db import utcnow
from resettle.dbroles import migration_database_url
from resettle.errors import RuleViolation
from resettle.translate import gettext as _


@dataclass(frozen=True)
class Pruned:
    rows: int
    up_to: int  # the last position removed (0: none)
    before: datetime


def _events() -> sa.TableClause:
    return sa.table(
        "audit_events",
        sa.column("id"),
        sa.column("chain_seq"),
        sa.column("chain_hmac"),
        sa.column("occurred_at"),
    )


def _lift_guard(connection: sa.Connection) -> Any:
    """Let DELETE through on audit_events for this transaction; returns what puts it back."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(
            "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"
        )
        return lambda: connection.exec_driver_sql(
            "ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"
        )
    sql = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'audit_events_no_delete'"
    ).scalar()
    connection.exec_driver_sql("DROP TRIGGER audit_events_no_delete")
    return lambda: connection.exec_driver_sql(sql)


def prune(before: datetime | None = None) -> Pruned:
    """Remove the audit rows written before `before` (default: AUDIT_RETENTION_DAYS ago; never
    later than that) from the beginning of the chain; RuleViolation when retention is off, the
    date is too recent, or the chain does not verify."""
    days = int(current_app.config.get("AUDIT_RETENTION_DAYS") or 0)
    if not days:
        raise RuleViolation(
            _("AUDIT_RETENTION_DAYS is 0: audit rows are kept for ever and nothing is pruned.")
        )
    latest = utcnow() - timedelta(days=days)
    before = before or latest
    if before > latest:
        raise RuleViolation(
            _(
                "Audit rows are kept %(days)s days (AUDIT_RETENTION_DAYS): rows after %(date)s "
                "may not be pruned yet.",
                days=days,
                date=latest.date().isoformat(),
            ),
        )
    url = migration_database_url(current_app.config)
    from resettle.extensions import db

    owner = sa.create_engine(url) if url else db.engine
    events = _events()
    try:
        with owner.begin() as connection:
            connection.execute(  # the head's lock first: no audit write slips in meanwhile
                sa.update(audit_chain)
                .where(audit_chain.c.id == HEAD_ID)
                .values(last_seq=audit_chain.c.last_seq)
            )
            result = verify(connection, chain_key(current_app.config))
            if not result.ok:
                raise RuleViolation(
                    _("Nothing pruned: the chain does not verify.") + " " + explain(result)
                )
            head = connection.execute(
                sa.select(audit_chain.c.last_seq, audit_chain.c.base_seq)
            ).one()
            first_kept = connection.execute(
                sa.select(sa.func.min(events.c.chain_seq)).where(events.c.occurred_at >= before)
            ).scalar()
            up_to = (first_kept - 1) if first_kept is not None else head.last_seq
            if up_to <= head.base_seq:
                return Pruned(0, head.base_seq, before)
            last_hmac = connection.execute(
                sa.select(events.c.chain_hmac).where(events.c.chain_seq == up_to)
            ).scalar()
            restore_guard = _lift_guard(connection)
            removed = connection.execute(
                sa.delete(events).where(events.c.chain_seq <= up_to)
            ).rowcount
            restore_guard()
            connection.execute(
                sa.update(audit_chain)
                .where(audit_chain.c.id == HEAD_ID)
                .values(base_seq=up_to, base_hmac=last_hmac)
            )
            record_event(
                connection,
                PRUNED,
                "AuditEvent",
                None,
                {
                    "rows": [None, removed],
                    "up_to": [None, up_to],
                    "hmac": [None, last_hmac],
                    "before": [None, before.isoformat()],
                },
            )
    finally:
        if url:
            owner.dispose()
    return Pruned(removed, up_to, before)
