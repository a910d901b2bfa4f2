"""Entitlements fixed at signing: the signing window and the transition period become part of
each compensation rule version (copied from the project into every existing version), so a
later change of the project's window or period never alters what a signed household is owed.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('compensation_rules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signing_start', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('signing_end', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('transition_months', sa.Integer(), nullable=True))
    rules = sa.table(
        'compensation_rules',
        sa.column('project_id', sa.Integer),
        sa.column('signing_start', sa.Date),
        sa.column('signing_end', sa.Date),
        sa.column('transition_months', sa.Integer),
    )
    projects = sa.table(
        'expropriation_projects',
        sa.column('id', sa.Integer),
        sa.column('signing_start', sa.Date),
        sa.column('signing_end', sa.Date),
        sa.column('transition_months', sa.Integer),
    )
    bind = op.get_bind()
    for project in bind.execute(sa.select(projects)).all():
        bind.execute(
            rules.update()
            .where(rules.c.project_id == project.id)
            .values(
                signing_start=project.signing_start,
                signing_end=project.signing_end,
                transition_months=project.transition_months,
            )
        )


def downgrade():
    with op.batch_alter_table('compensation_rules', schema=None) as batch_op:
        batch_op.drop_column('transition_months')
        batch_op.drop_column('signing_end')
        batch_op.drop_column('signing_start')
