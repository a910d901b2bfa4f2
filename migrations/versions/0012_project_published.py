"""Project published: a project is on the public pages only once a supervisor or an
administrator publishes it. Existing projects were all public before this revision, so they are
published (nothing already public disappears on upgrade); new ones start unpublished.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('expropriation_projects', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('published', sa.Boolean(), nullable=False, server_default=sa.true())
        )
    with op.batch_alter_table('expropriation_projects', schema=None) as batch_op:
        batch_op.alter_column('published', server_default=None)


def downgrade():
    with op.batch_alter_table('expropriation_projects', schema=None) as batch_op:
        batch_op.drop_column('published')
