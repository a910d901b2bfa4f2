"""Shared by the tests that need a project's compensation rules."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from resettle.extensions import db
from resettle.funds.models import CompensationRule
from resettle.funds.services import RuleData, create_rule_version
from resettle.projects.models import ExpropriationProject

#: 15 yuan/m² moving, 12 yuan/m²/month temporary allowance, flat prices 3000 / 5000 / 12000.
STANDARD_RULES: dict[str, Any] = {
    "moving_allowance_per_m2": Decimal("15"),
    "temporary_allowance_per_m2_month": Decimal("12"),
    "signing_bonus": Decimal("0"),
    "price_within_entitled": Decimal("3000"),
    "band_m2": Decimal("10"),
    "price_first_band": Decimal("5000"),
    "price_beyond_band": Decimal("12000"),
}


def add_rules(project: ExpropriationProject, **overrides: Any) -> CompensationRule:
    """Version 1 of the standard rules, in force from 1 March 2025."""
    data = RuleData(effective_from=date(2025, 3, 1), **{**STANDARD_RULES, **overrides})
    return create_rule_version(db.session, project, data)
