"""Agreements (补偿协议): numbered and archived like notices (the archived PDF in
notice_documents, the number from notice_sequences), their figures frozen at signing; one
agreement per household, everything after it a supplementary agreement.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'agreements',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column(
            'kind',
            sa.Enum(
                'money_agreement', 'swap_agreement', 'supplement',
                name='agreement_kind', native_enum=False, create_constraint=True, length=19,
            ),
            nullable=False,
        ),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('sequence', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=60), nullable=False),
        sa.Column('check_code', sa.String(length=12), nullable=False),
        sa.Column('household_id', sa.Integer(), nullable=False),
        sa.Column('amends_id', sa.Integer(), nullable=True),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('rule_id', sa.Integer(), nullable=True),
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.Column('first_page', sa.Integer(), nullable=False),
        sa.Column('page_count', sa.Integer(), nullable=False),
        sa.Column('signed_on', sa.Date(), nullable=False),
        sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('issued_by_id', sa.Integer(), nullable=True),
        sa.Column('total', sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column('before_moving', sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column('figures', sa.JSON(), nullable=False),
        sa.CheckConstraint('before_moving >= 0', name=op.f('ck_agreements_before_moving_nonneg')),
        sa.CheckConstraint(
            'first_page > 0 AND page_count > 0', name=op.f('ck_agreements_pages_positive')
        ),
        sa.CheckConstraint('sequence > 0', name=op.f('ck_agreements_sequence_positive')),
        sa.CheckConstraint(
            "(kind = 'supplement') = (amends_id IS NOT NULL)",
            name=op.f('ck_agreements_supplement_amends'),
        ),
        sa.CheckConstraint(
            "kind <> 'supplement' OR length(trim(reason)) > 0",
            name=op.f('ck_agreements_supplement_has_reason'),
        ),
        sa.ForeignKeyConstraint(
            ['amends_id'], ['agreements.id'], name=op.f('fk_agreements_amends_id_agreements')
        ),
        sa.ForeignKeyConstraint(
            ['document_id'], ['notice_documents.id'],
            name=op.f('fk_agreements_document_id_notice_documents'),
        ),
        sa.ForeignKeyConstraint(
            ['household_id'], ['households.id'], name=op.f('fk_agreements_household_id_households')
        ),
        sa.ForeignKeyConstraint(
            ['issued_by_id'], ['users.id'], name=op.f('fk_agreements_issued_by_id_users')
        ),
        sa.ForeignKeyConstraint(
            ['rule_id'], ['compensation_rules.id'],
            name=op.f('fk_agreements_rule_id_compensation_rules'),
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_agreements')),
        sa.UniqueConstraint('kind', 'year', 'sequence', name='uq_agreements_kind_year_sequence'),
        sa.UniqueConstraint('number', name=op.f('uq_agreements_number')),
    )
    op.create_index(op.f('ix_agreements_document_id'), 'agreements', ['document_id'])
    op.create_index(op.f('ix_agreements_household_id'), 'agreements', ['household_id'])
    op.create_index(
        'uq_agreements_one_per_household', 'agreements', ['household_id'], unique=True,
        sqlite_where=sa.text('amends_id IS NULL'), postgresql_where=sa.text('amends_id IS NULL'),
    )


def downgrade():
    op.drop_index('uq_agreements_one_per_household', table_name='agreements')
    op.drop_index(op.f('ix_agreements_household_id'), table_name='agreements')
    op.drop_index(op.f('ix_agreements_document_id'), table_name='agreements')
    op.drop_table('agreements')
