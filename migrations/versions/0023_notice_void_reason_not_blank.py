"""A voided notice has a reason that is not blank, and one that is not voided has no void
fields at all: the void check of notices becomes stricter.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

_BEFORE = '(voided_at IS NULL) = (void_reason IS NULL)'
# (void_reason IS NOT NULL: a CHECK whose expression is NULL passes, and length(trim(NULL)) is)
_AFTER = (
    '(voided_at IS NULL AND void_reason IS NULL AND voided_by_id IS NULL)'
    ' OR (voided_at IS NOT NULL AND void_reason IS NOT NULL AND length(trim(void_reason)) > 0)'
)


def _void_check(condition):
    # SQLite rebuilds notices from its reflection; resolve_fks=False reflects notices alone,
    # not the tables its foreign keys name (users' lower(username) index cannot be reflected)
    with op.batch_alter_table(
        'notices', schema=None, reflect_kwargs={'resolve_fks': False}
    ) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_notices_void_has_reason'), type_='check')
        batch_op.create_check_constraint('void_has_reason', condition)


def upgrade():
    _void_check(_AFTER)


def downgrade():
    _void_check(_BEFORE)
