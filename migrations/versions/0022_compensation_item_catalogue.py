"""The complete compensation item catalogue: each rule version gets signing-reward and moving-bonus
tiers by date, business-loss terms (a share of the value or months × a rate), a rate for
unregistered buildings found lawful (Decree 590 Art. 24), a hardship subsidy and its own price
list of fixtures and relocations (rule_price_items); each household gets its decoration value,
business area, lawful unregistered area, hardship reason, fixture counts (household_fixtures)
and free lines with a reason (household_adjustments).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03

"""
import warnings

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sa.exc.SAWarning)  # (SQLite reflects users' index)
        with op.batch_alter_table('compensation_rules', schema=None) as batch_op:
            batch_op.add_column(
                sa.Column('signing_reward_tiers', sa.String(length=300), server_default='', nullable=False)
            )
            batch_op.add_column(
                sa.Column('moving_bonus_tiers', sa.String(length=300), server_default='', nullable=False)
            )
            # the enum's column and its check, as the model's str_enum makes them
            batch_op.add_column(sa.Column('business_loss_method', sa.String(length=11), nullable=True))
            batch_op.create_check_constraint(
                'business_loss_method', "business_loss_method IN ('share', 'monthly')"
            )
            batch_op.add_column(sa.Column('business_loss_percent', sa.Numeric(precision=5, scale=2), nullable=True))
            batch_op.add_column(sa.Column('business_loss_months', sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column('business_loss_per_m2_month', sa.Numeric(precision=14, scale=2), nullable=True))
            batch_op.add_column(
                sa.Column('lawful_unregistered_per_m2', sa.Numeric(precision=14, scale=2), server_default='0', nullable=False)
            )
            batch_op.add_column(
                sa.Column('hardship_subsidy', sa.Numeric(precision=14, scale=2), server_default='0', nullable=False)
            )
            batch_op.create_check_constraint(
                'items_nonneg', 'lawful_unregistered_per_m2 >= 0 AND hardship_subsidy >= 0'
            )
            batch_op.create_check_constraint(
                'business_loss_terms',
                "business_loss_method IS NULL"
                " OR (business_loss_method = 'share' AND business_loss_percent IS NOT NULL"
                " AND business_loss_percent > 0 AND business_loss_percent <= 100)"
                " OR (business_loss_method = 'monthly' AND business_loss_months IS NOT NULL"
                " AND business_loss_months > 0 AND business_loss_per_m2_month IS NOT NULL"
                " AND business_loss_per_m2_month >= 0)",
            )
        with op.batch_alter_table('households', schema=None) as batch_op:
            batch_op.add_column(sa.Column('decoration_value', sa.Numeric(precision=14, scale=2), nullable=True))
            batch_op.add_column(sa.Column('business_area', sa.Numeric(precision=10, scale=2), nullable=True))
            batch_op.add_column(
                sa.Column('lawful_unregistered_area', sa.Numeric(precision=10, scale=2), server_default='0', nullable=False)
            )
            batch_op.add_column(sa.Column('hardship', sa.String(length=20), nullable=True))
            batch_op.create_check_constraint(
                'decoration_value_nonneg', 'decoration_value IS NULL OR decoration_value >= 0'
            )
            batch_op.create_check_constraint(
                'business_area_nonneg', 'business_area IS NULL OR business_area >= 0'
            )
            batch_op.create_check_constraint(
                'lawful_within_unregistered',
                'lawful_unregistered_area >= 0 AND lawful_unregistered_area <= unregistered_area',
            )
    op.create_table(
        'rule_price_items',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('rule_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('unit', sa.String(length=20), nullable=False),
        sa.Column('price', sa.Numeric(precision=14, scale=2), nullable=False),
        sa.CheckConstraint("name <> '' AND unit <> ''", name=op.f('ck_rule_price_items_named')),
        sa.CheckConstraint('price >= 0', name=op.f('ck_rule_price_items_price_nonneg')),
        sa.ForeignKeyConstraint(
            ['rule_id'], ['compensation_rules.id'],
            name=op.f('fk_rule_price_items_rule_id_compensation_rules'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_rule_price_items')),
        sa.UniqueConstraint('rule_id', 'name', name='uq_rule_price_items_rule_name'),
    )
    op.create_index(op.f('ix_rule_price_items_rule_id'), 'rule_price_items', ['rule_id'], unique=False)
    op.create_table(
        'household_fixtures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('household_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('quantity', sa.Numeric(precision=10, scale=2), nullable=False),
        sa.CheckConstraint('quantity > 0', name=op.f('ck_household_fixtures_quantity_positive')),
        sa.ForeignKeyConstraint(
            ['household_id'], ['households.id'],
            name=op.f('fk_household_fixtures_household_id_households'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_household_fixtures')),
        sa.UniqueConstraint('household_id', 'name', name='uq_household_fixtures_household_name'),
    )
    op.create_index(
        op.f('ix_household_fixtures_household_id'), 'household_fixtures', ['household_id'], unique=False
    )
    op.create_table(
        'household_adjustments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('household_id', sa.Integer(), nullable=False),
        sa.Column('label', sa.String(length=60), nullable=False),
        sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('added_by_id', sa.Integer(), nullable=True),
        sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('amount <> 0', name=op.f('ck_household_adjustments_amount_nonzero')),
        sa.CheckConstraint(
            "label <> '' AND reason <> ''", name=op.f('ck_household_adjustments_label_and_reason')
        ),
        sa.ForeignKeyConstraint(
            ['added_by_id'], ['users.id'], name=op.f('fk_household_adjustments_added_by_id_users')
        ),
        sa.ForeignKeyConstraint(
            ['household_id'], ['households.id'],
            name=op.f('fk_household_adjustments_household_id_households'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_household_adjustments')),
    )
    op.create_index(
        op.f('ix_household_adjustments_household_id'), 'household_adjustments', ['household_id'], unique=False
    )


def downgrade():
    op.drop_index(op.f('ix_household_adjustments_household_id'), table_name='household_adjustments')
    op.drop_table('household_adjustments')
    op.drop_index(op.f('ix_household_fixtures_household_id'), table_name='household_fixtures')
    op.drop_table('household_fixtures')
    op.drop_index(op.f('ix_rule_price_items_rule_id'), table_name='rule_price_items')
    op.drop_table('rule_price_items')
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sa.exc.SAWarning)
        with op.batch_alter_table('households', schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f('ck_households_lawful_within_unregistered'), type_='check')
            batch_op.drop_constraint(batch_op.f('ck_households_business_area_nonneg'), type_='check')
            batch_op.drop_constraint(batch_op.f('ck_households_decoration_value_nonneg'), type_='check')
            batch_op.drop_column('hardship')
            batch_op.drop_column('lawful_unregistered_area')
            batch_op.drop_column('business_area')
            batch_op.drop_column('decoration_value')
        with op.batch_alter_table('compensation_rules', schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f('ck_compensation_rules_business_loss_terms'), type_='check')
            batch_op.drop_constraint(batch_op.f('ck_compensation_rules_items_nonneg'), type_='check')
            batch_op.drop_constraint(batch_op.f('ck_compensation_rules_business_loss_method'), type_='check')
            batch_op.drop_column('hardship_subsidy')
            batch_op.drop_column('lawful_unregistered_per_m2')
            batch_op.drop_column('business_loss_per_m2_month')
            batch_op.drop_column('business_loss_months')
            batch_op.drop_column('business_loss_percent')
            batch_op.drop_column('business_loss_method')
            batch_op.drop_column('moving_bonus_tiers')
            batch_op.drop_column('signing_reward_tiers')
