"""Receipts: money a household pays in (the price difference of a larger flat, a refund) is a
payment of kind "receipt", counted against what is owed to it, so a balance reads as 应付, 应收
or 已结清 instead of an unexplained negative.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03

"""
import warnings

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

_BEFORE = ('compensation', 'moving_allowance', 'temporary_allowance', 'bonus', 'settlement', 'other')
_AFTER = _BEFORE + ('receipt',)


def _kinds(kinds):
    with warnings.catch_warnings():
        # SQLite rebuilds payments by reflecting it, and with it users' lower(username) index,
        # which reflection cannot read (the index is not touched)
        warnings.simplefilter("ignore", sa.exc.SAWarning)
        with op.batch_alter_table('payments', schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f('ck_payments_payment_kind'), type_='check')
            batch_op.create_check_constraint(
                'payment_kind', "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")"
            )


def upgrade():
    _kinds(_AFTER)


def downgrade():
    op.execute("DELETE FROM payments WHERE kind = 'receipt'")
    _kinds(_BEFORE)
