"""A project's notice period: a notice whose plan date has passed asks for this many working
days from its issue date (10 unless the project says otherwise).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def _batch():
    # SQLite rebuilds the table from its reflection; resolve_fks=False reflects it alone, not
    # the tables its foreign keys name (users' lower(username) index cannot be reflected)
    return op.batch_alter_table(
        'expropriation_projects', schema=None, reflect_kwargs={'resolve_fks': False}
    )


def upgrade():
    with _batch() as batch_op:
        batch_op.add_column(
            sa.Column('notice_workdays', sa.Integer(), server_default='10', nullable=False)
        )
        batch_op.create_check_constraint(
            'notice_workdays_range', 'notice_workdays BETWEEN 1 AND 120'
        )


def downgrade():
    with _batch() as batch_op:
        batch_op.drop_constraint(
            batch_op.f('ck_expropriation_projects_notice_workdays_range'), type_='check'
        )
        batch_op.drop_column('notice_workdays')
