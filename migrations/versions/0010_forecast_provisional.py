"""Forecast provisional: a plan node stores whether its forecast counts through (or lies in) a
year without official holiday data, next to the flag of its deadlines.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    # Existing rows get false until the next scheduling run (`flask plan replan`, daily) sets it.
    with op.batch_alter_table('plan_nodes', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('forecast_provisional', sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table('plan_nodes', schema=None) as batch_op:
        batch_op.alter_column('forecast_provisional', server_default=None)


def downgrade():
    with op.batch_alter_table('plan_nodes', schema=None) as batch_op:
        batch_op.drop_column('forecast_provisional')
