"""The audit trail: one row per change, append-only (database triggers refuse edits) and chained
(each row's HMAC covers the one before it: `resettle.audit.chain`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from resettle.db import UTCDateTime, utcnow
from resettle.extensions import db


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(sa.String(80))
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    request_id: Mapped[str | None] = mapped_column(sa.String(32))
    action: Mapped[str] = mapped_column(sa.String(20))
    entity_type: Mapped[str] = mapped_column(sa.String(60))
    entity_id: Mapped[int | None]
    changes: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    # The row's place in the chain (1, 2, 3, ... without gaps) and its HMAC over the content and
    # the previous row's HMAC; both given by `chain.chain()` as the row is written.
    chain_seq: Mapped[int] = mapped_column(sa.BigInteger, unique=True)
    chain_hmac: Mapped[str] = mapped_column(sa.String(64))

    __table_args__ = (sa.Index("ix_audit_events_entity", "entity_type", "entity_id"),)


class AuditChainHead(db.Model):
    """The end of the chain: the last position and HMAC written (one row). Every audited
    transaction locks it to take its positions; it shows rows cut off the end of the chain."""

    __tablename__ = "audit_chain"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(sa.BigInteger)
    last_hmac: Mapped[str] = mapped_column(sa.String(64))
    # A fingerprint of the key the chain is written with (`chain.key_check`), not the key.
    key_check: Mapped[str] = mapped_column(sa.String(16))
    # Where the chain starts: the position and HMAC of the last row pruned (`flask audit prune`,
    # after AUDIT_RETENTION_DAYS), 0 and the genesis value when none was.
    base_seq: Mapped[int] = mapped_column(sa.BigInteger, server_default="0")
    base_hmac: Mapped[str] = mapped_column(sa.String(64), server_default="0" * 64)

    __table_args__ = (sa.CheckConstraint("id = 1", name="single_row"),)
