"""Voided notices (作废): when, by whom and why a notice was voided; it stays archived and
verifies as voided.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03

"""
import warnings

import sqlalchemy as sa
from alembic import op

import resettle.db


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def _batch():
    # SQLite rebuilds notices by reflecting it, and with it users' lower(username) index, which
    # reflection cannot read (the index is not touched)
    warnings.simplefilter("ignore", sa.exc.SAWarning)
    return op.batch_alter_table('notices', schema=None)


def upgrade():
    with warnings.catch_warnings(), _batch() as batch_op:
        batch_op.add_column(sa.Column('voided_at', resettle.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('voided_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('void_reason', sa.Text(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_notices_voided_by_id_users'), 'users', ['voided_by_id'], ['id'])
        batch_op.create_check_constraint(
            'void_has_reason', '(voided_at IS NULL) = (void_reason IS NULL)'
        )


def downgrade():
    with warnings.catch_warnings(), _batch() as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_notices_void_has_reason'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_notices_voided_by_id_users'), type_='foreignkey')
        batch_op.drop_column('void_reason')
        batch_op.drop_column('voided_by_id')
        batch_op.drop_column('voided_at')
