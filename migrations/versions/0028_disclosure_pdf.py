"""Disclosure PDFs (公示 PDF): rendered once when a disclosure is published, served as stored.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-05

"""
import sqlalchemy as sa
from alembic import op

import resettle.db

# revision identifiers, used by Alembic.
revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'disclosure_pdfs',
        sa.Column('disclosure_id', sa.Integer(), nullable=False),
        sa.Column('pdf', sa.LargeBinary(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('rendered_at', resettle.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('rendered_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint('size > 0', name=op.f('ck_disclosure_pdfs_size_positive')),
        sa.CheckConstraint('length(sha256) = 64', name=op.f('ck_disclosure_pdfs_sha256_length')),
        sa.ForeignKeyConstraint(['disclosure_id'], ['disclosures.id'], name=op.f('fk_disclosure_pdfs_disclosure_id_disclosures'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['rendered_by_id'], ['users.id'], name=op.f('fk_disclosure_pdfs_rendered_by_id_users')),
        sa.PrimaryKeyConstraint('disclosure_id', name=op.f('pk_disclosure_pdfs')),
    )


def downgrade():
    op.drop_table('disclosure_pdfs')
