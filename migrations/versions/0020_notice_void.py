"""Voided notices (作废): when, by whom and why a notice was voided; it stays archived and
verifies as voided.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03

"""
import sqlalchemy as sa
from alembic import op

import resettle.db


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def _batch():
    # SQLite rebuilds notices from its reflection; resolve_fks=False reflects notices alone,
    # not the tables its foreign keys name (users' lower(username) index cannot be reflected)
    return op.batch_alter_table('notices', schema=None, reflect_kwargs={'resolve_fks': False})


def upgrade():
    with _batch() as batch_op:
        batch_op.add_column(sa.Column('voided_at', resettle.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('voided_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('void_reason', sa.Text(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_notices_voided_by_id_users'), 'users', ['voided_by_id'], ['id'])
        batch_op.create_check_constraint(
            'void_has_reason', '(voided_at IS NULL) = (void_reason IS NULL)'
        )


def downgrade():
    with _batch() as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_notices_void_has_reason'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_notices_voided_by_id_users'), type_='foreignkey')
        batch_op.drop_column('void_reason')
        batch_op.drop_column('voided_by_id')
        batch_op.drop_column('voided_at')
