"""The transition of a swap household: self-arranged with the temporary allowance (NULL), or
the transit flat (周转房) the office lends it, named here, and then no allowance is paid.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table(
        'households', schema=None, reflect_kwargs={'resolve_fks': False}
    ) as batch_op:
        batch_op.add_column(sa.Column('transit_flat', sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table(
        'households', schema=None, reflect_kwargs={'resolve_fks': False}
    ) as batch_op:
        batch_op.drop_column('transit_flat')
