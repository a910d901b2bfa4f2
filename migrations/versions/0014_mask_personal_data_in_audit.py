"""Personal data in the audit trail masked: ID numbers, phones and bank accounts that rows
written before this revision hold in full are replaced by the masked value and a keyed hash of
the full one, as new rows are written (`resettle.audit.services`). Audit rows are write-once,
so the append-only guard is lifted for this one rewrite and put back; the rewrite is itself
an audit event ("audit_pii_masked", with the number of rows). It cannot be undone: the
downgrade leaves the rows masked. This has to happen before the rows are chained (issue 15).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02

"""
import importlib.util
import json
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from alembic import op

import resettle.db

from resettle.privacy import PII_FIELDS, audit_pii_value


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

_CHUNK = 2000


def _initial():
    """The first revision's module, whose functions lift and restore the audit guard."""
    path = Path(__file__).with_name("0001_initial_schema.py")
    spec = importlib.util.spec_from_file_location("resettle_migration_0001", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def masked_changes(changes):
    """`changes` with every plain value of a personal-data column masked (None: nothing to do)."""
    if not isinstance(changes, dict):
        return None
    out, touched = dict(changes), False
    for key in PII_FIELDS.keys() & changes.keys():
        values = changes[key]
        if isinstance(values, list):
            new = [audit_pii_value(key, v) if isinstance(v, str) else v for v in values]
        elif isinstance(values, str):
            new = audit_pii_value(key, values)
        else:
            continue
        if new != values:
            out[key], touched = new, True
    return out if touched else None


def upgrade():
    bind = op.get_bind()
    events = sa.table(
        "audit_events",
        sa.column("id", sa.Integer),
        sa.column("changes", sa.JSON),
        sa.column("occurred_at", resettle.db.UTCDateTime),
        sa.column("actor", sa.String),
        sa.column("action", sa.String),
        sa.column("entity_type", sa.String),
    )
    text = sa.cast(events.c.changes, sa.Text)
    holds_pii = sa.or_(*[text.like(f'%"{key}"%') for key in PII_FIELDS])
    initial = _initial()
    initial.drop_audit_guard()
    rewritten, last = 0, 0
    try:
        while True:
            rows = bind.execute(
                sa.select(events.c.id, events.c.changes)
                .where(events.c.id > last, holds_pii)
                .order_by(events.c.id)
                .limit(_CHUNK)
            ).all()
            if not rows:
                break
            last = rows[-1].id
            updates = []
            for row in rows:
                changes = row.changes if not isinstance(row.changes, str) else json.loads(row.changes)
                masked = masked_changes(changes)
                if masked is not None:
                    updates.append({"row_id": row.id, "masked": masked})
            if updates:
                bind.execute(
                    events.update()
                    .where(events.c.id == sa.bindparam("row_id"))
                    .values(changes=sa.bindparam("masked", type_=sa.JSON)),
                    updates,
                )
                rewritten += len(updates)
    finally:
        initial.create_audit_guard()
    if rewritten:
        bind.execute(
            events.insert().values(
                occurred_at=datetime.now(timezone.utc),
                actor="system",
                action="audit_pii_masked",
                entity_type="AuditEvent",
                changes={"rows": [None, rewritten]},
            )
        )


def downgrade():
    # The full values are gone: nothing to put back.
    pass
