"""Where the audit chain starts: the position and HMAC of the last row pruned after the
retention period (`flask audit prune`); 0 and the genesis value while nothing was pruned.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_chain', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('base_seq', sa.BigInteger(), server_default='0', nullable=False)
        )
        batch_op.add_column(
            sa.Column('base_hmac', sa.String(length=64), server_default='0' * 64, nullable=False)
        )


def downgrade():
    with op.batch_alter_table('audit_chain', schema=None) as batch_op:
        batch_op.drop_column('base_hmac')
        batch_op.drop_column('base_seq')
