"""Projects as boundaries: the projects (片区) each staff account works in, or all of them.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('user_projects',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['expropriation_projects.id'], name=op.f('fk_user_projects_project_id_expropriation_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_projects_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'project_id', name=op.f('pk_user_projects'))
    )
    with op.batch_alter_table('user_projects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_projects_project_id'), ['project_id'], unique=False)
    # Accounts made before projects were boundaries keep what they saw: every project.
    # (SQLite rebuilds the table for the second step and cannot carry lower(username) over.)
    op.drop_index('uq_users_username_lower', table_name='users')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('all_projects', sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('all_projects', server_default=None)
    op.create_index('uq_users_username_lower', 'users', [sa.text('lower(username)')], unique=True)


def downgrade():
    op.drop_index('uq_users_username_lower', table_name='users')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('all_projects')
    op.create_index('uq_users_username_lower', 'users', [sa.text('lower(username)')], unique=True)
    with op.batch_alter_table('user_projects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_projects_project_id'))
    op.drop_table('user_projects')
