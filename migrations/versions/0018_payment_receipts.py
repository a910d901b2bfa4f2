"""Receipts: money a household pays in (the price difference of a larger flat, a refund) is a
payment of kind "receipt", counted against what is owed to it, so a balance reads as 应付, 应收
or 已结清 instead of an unexplained negative.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

_BEFORE = ('compensation', 'moving_allowance', 'temporary_allowance', 'bonus', 'settlement', 'other')
_AFTER = _BEFORE + ('receipt',)


def _kinds(kinds):
    # SQLite rebuilds payments from its reflection; resolve_fks=False reflects payments alone,
    # not the tables its foreign keys name (users' lower(username) index cannot be reflected)
    with op.batch_alter_table(
        'payments', schema=None, reflect_kwargs={'resolve_fks': False}
    ) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_payments_payment_kind'), type_='check')
        batch_op.create_check_constraint(
            'payment_kind', "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")"
        )


def upgrade():
    _kinds(_AFTER)


def downgrade():
    op.execute("DELETE FROM payments WHERE kind = 'receipt'")
    _kinds(_BEFORE)
