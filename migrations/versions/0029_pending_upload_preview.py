"""An upload's preview kept with it: what the check of a ledger found (counts, problems, the
first rows), so that a large ledger's preview, made by a background job, is shown from here.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-05

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('pending_uploads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('preview', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('pending_uploads', schema=None) as batch_op:
        batch_op.drop_column('preview')
