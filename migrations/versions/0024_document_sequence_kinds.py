"""The numbering counter takes any kind of numbered document (notices, supervision orders and,
next, agreements): its type column loses the check that allowed notice types only.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03

"""
import warnings

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

NOTICE_TYPES = ('signing', 'vacating', 'selection', 'handover', 'allowance', 'supervision')


def upgrade():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sa.exc.SAWarning)  # (SQLite reflects users' index)
        with op.batch_alter_table('notice_sequences', schema=None) as batch_op:
            batch_op.drop_constraint(
                batch_op.f('ck_notice_sequences_notice_sequence_type'), type_='check'
            )
            batch_op.alter_column(
                'type', existing_type=sa.String(length=15), type_=sa.String(length=30)
            )


def downgrade():
    op.execute(
        "DELETE FROM notice_sequences WHERE type NOT IN ("
        + ", ".join(f"'{t}'" for t in NOTICE_TYPES) + ")"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sa.exc.SAWarning)
        with op.batch_alter_table('notice_sequences', schema=None) as batch_op:
            batch_op.alter_column(
                'type', existing_type=sa.String(length=30), type_=sa.String(length=15)
            )
            batch_op.create_check_constraint(
                'notice_sequence_type', 'type IN (' + ', '.join(f"'{t}'" for t in NOTICE_TYPES) + ')'
            )
