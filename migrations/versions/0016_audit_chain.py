"""The audit trail chained: each row gets its position and an HMAC over its content and the
previous row's HMAC (`resettle.audit.chain`), and the table `audit_chain` holds the end of the
chain. Rows written before this revision are chained here in the order they were written (by
id), with the key of this installation's settings (AUDIT_CHAIN_KEY, else derived from
SECRET_KEY): run it with the settings the application will run with. The append-only guard is
lifted for this one rewrite and put back; the chaining is itself the chain's last row
("audit_chained", with the number of rows). Downgrading drops the chain.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03

"""
import importlib.util
import json
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from flask import current_app

import resettle.db
from resettle.audit.chain import GENESIS, HEAD_ID, chain_key, key_check, link


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

_CHUNK = 5000


def _initial():
    """The first revision's module, whose functions lift and restore the audit guard."""
    path = Path(__file__).with_name("0001_initial_schema.py")
    spec = importlib.util.spec_from_file_location("resettle_migration_0001", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_events = sa.table(
    "audit_events",
    sa.column("id", sa.Integer),
    sa.column("occurred_at", resettle.db.UTCDateTime),
    sa.column("user_id", sa.Integer),
    sa.column("actor", sa.String),
    sa.column("ip", sa.String),
    sa.column("request_id", sa.String),
    sa.column("action", sa.String),
    sa.column("entity_type", sa.String),
    sa.column("entity_id", sa.Integer),
    sa.column("changes", sa.JSON),
    sa.column("chain_seq", sa.BigInteger),
    sa.column("chain_hmac", sa.String),
)


def _chain_existing(bind, key):
    """Give every row its position and HMAC, oldest first; the last position and HMAC."""
    seq, previous, last_id = 0, GENESIS, 0
    update = (
        _events.update()
        .where(_events.c.id == sa.bindparam("row_id"))
        .values(chain_seq=sa.bindparam("seq"), chain_hmac=sa.bindparam("hmac"))
    )
    while True:
        rows = bind.execute(
            sa.select(_events).where(_events.c.id > last_id).order_by(_events.c.id).limit(_CHUNK)
        ).all()
        if not rows:
            return seq, previous
        updates = []
        for row in rows:
            seq += 1
            values = dict(row._mapping, chain_seq=seq)
            if isinstance(values["changes"], str):
                values["changes"] = json.loads(values["changes"])
            previous = link(key, previous, values)
            updates.append({"row_id": row.id, "seq": seq, "hmac": previous})
        bind.execute(update, updates)
        last_id = rows[-1].id


def _audit_events_table():
    """audit_events as it stands once the chain's columns are added (still nullable)."""
    meta = sa.MetaData()
    sa.Table('users', meta, sa.Column('id', sa.Integer(), primary_key=True))
    return sa.Table(
        'audit_events',
        meta,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('occurred_at', resettle.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('actor', sa.String(length=80), nullable=False),
        sa.Column('ip', sa.String(length=45), nullable=True),
        sa.Column('request_id', sa.String(length=32), nullable=True),
        sa.Column('action', sa.String(length=20), nullable=False),
        sa.Column('entity_type', sa.String(length=60), nullable=False),
        sa.Column('entity_id', sa.Integer(), nullable=True),
        sa.Column('changes', sa.JSON(), nullable=False),
        sa.Column('chain_seq', sa.BigInteger(), nullable=True),
        sa.Column('chain_hmac', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name='fk_audit_events_user_id_users'),
        sa.PrimaryKeyConstraint('id', name='pk_audit_events'),
        sa.Index('ix_audit_events_entity', 'entity_type', 'entity_id'),
    )


def upgrade():
    bind = op.get_bind()
    key = chain_key(current_app.config)
    op.create_table(
        'audit_chain',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('last_seq', sa.BigInteger(), nullable=False),
        sa.Column('last_hmac', sa.String(length=64), nullable=False),
        sa.Column('key_check', sa.String(length=16), nullable=False),
        sa.CheckConstraint('id = 1', name=op.f('ck_audit_chain_single_row')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain')),
    )
    initial = _initial()
    initial.drop_audit_guard()
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain_seq', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('chain_hmac', sa.String(length=64), nullable=True))
    seq, previous = _chain_existing(bind, key)
    count = seq
    # The chaining itself, as the chain's last row.
    row = {
        "occurred_at": datetime.now(timezone.utc),
        "user_id": None,
        "actor": "system",
        "ip": None,
        "request_id": None,
        "action": "audit_chained",
        "entity_type": "AuditEvent",
        "entity_id": None,
        "changes": {"rows": [None, count]},
        "chain_seq": seq + 1,
    }
    row["chain_hmac"] = link(key, previous, row)
    bind.execute(_events.insert().values(**row))
    bind.execute(
        sa.table(
            "audit_chain",
            sa.column("id"),
            sa.column("last_seq"),
            sa.column("last_hmac"),
            sa.column("key_check"),
        )
        .insert()
        .values(id=HEAD_ID, last_seq=seq + 1, last_hmac=row["chain_hmac"], key_check=key_check(key))
    )
    # (copy_from: SQLite rebuilds the table from this definition rather than reflecting it,
    # which would reflect `users` too and warn about its expression index)
    with op.batch_alter_table('audit_events', schema=None, copy_from=_audit_events_table()) as batch_op:
        batch_op.alter_column('chain_seq', existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column('chain_hmac', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(op.f('uq_audit_events_chain_seq'), ['chain_seq'])
    initial.create_audit_guard()


def downgrade():
    initial = _initial()
    initial.drop_audit_guard()
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('uq_audit_events_chain_seq'), type_='unique')
        batch_op.drop_column('chain_hmac')
        batch_op.drop_column('chain_seq')
    op.drop_table('audit_chain')
    initial.create_audit_guard()
