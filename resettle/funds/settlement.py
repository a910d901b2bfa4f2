"""The settlement sheet (结算单) of a property-swap household at handover: the entitled area
against the allocated flat(s), the flat's price in its three tiers, every compensation line,
what was paid and received, and the balance in words (应付 / 应收 / 已结清) and in capitals.

Plain data out (the page and the PDF render dicts, not models); the figures are the household's
money as `household_money` computes it, under the rule version it signed under.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from resettle.db import money
from resettle.documents.capitals import amount_in_capitals
from resettle.documents.dates import chinese_date
from resettle.errors import RuleViolation
from resettle.funds.compensation import ZERO, flat_parts
from resettle.funds.models import INCOMING_KINDS, Payment
from resettle.funds.services import BALANCE_LABELS, SWAP, household_money, terms_of
from resettle.households.models import Household, Stage
from resettle.i18n import MODE_LABELS, PAYMENT_KIND_LABELS
from resettle.translate import gettext as _


def settlement_sheet(session: Session, household: Household, *, as_of: date) -> dict[str, Any]:
    """The settlement sheet of a swap household with a flat, as of a day (the print date).
    RuleViolation saying why when there is none: not a swap household, no flat allocated, no
    entitled area, not signed, or no compensation rules."""
    if household.compensation_mode not in SWAP:
        raise RuleViolation(
            _(
                "The settlement sheet is for households with a property swap: this household "
                "is compensated in money."
            )
            if household.compensation_mode is not None
            else _(
                "The settlement sheet is for households with a property swap: this household "
                "has no compensation mode yet."
            ),
            "compensation_mode",
        )
    units = sorted(household.units, key=lambda u: (u.building.site.name, u.label))
    if not units:
        raise RuleViolation(
            _(
                "No flat is allocated to this household yet: the settlement sheet is made once "
                "a flat is allocated."
            ),
            "units",
        )
    if household.entitled_area is None:
        raise RuleViolation(
            _(
                "The household's entitled resettlement area is not recorded: the settlement "
                "sheet compares the flat with it."
            ),
            "entitled_area",
        )
    figures = household_money(session, household, as_of=as_of)
    if figures is None:
        raise RuleViolation(
            _("This project has no compensation rules yet: household money cannot be computed."),
            "rule",
        )
    if figures.estimate:
        raise RuleViolation(
            _("The household has not signed: there is nothing to settle yet."), "stage"
        )

    entitled = household.entitled_area
    flat_area = sum((u.area for u in units), ZERO)
    lines = {line.key: line for line in figures.lines}
    tiers = [
        {
            "key": key,
            "label": lines[key].label,
            "m2": m2,
            "price_per_m2": price,
            "amount": -lines[key].amount,
        }
        for key, m2, price in flat_parts(
            flat_area, entitled, terms_of(figures.rule, household.project)
        )
    ]
    tier_keys = {t["key"] for t in tiers}
    compensation = [
        {"key": line.key, "label": line.label, "formula": line.formula, "amount": line.amount}
        for line in figures.lines
        if line.key not in tier_keys
    ]
    compensation_total = money(sum((c["amount"] for c in compensation), ZERO))
    flat_price = money(sum((t["amount"] for t in tiers), ZERO))
    handed_over_on = next(
        (s.actual_date for s in household.steps if s.stage == Stage.HANDED_OVER), None
    )
    return {
        "as_of": as_of,
        "as_of_text": chinese_date(as_of),
        "household": {
            "case_number": household.case_number,
            "head_name": household.head_name,
            "project": f"{household.project.code} {household.project.name}",
            "house_address": household.house_address,
            "legal_area": household.legal_area,
            "mode": str(MODE_LABELS[household.compensation_mode]),
        },
        "rule_version": figures.rule.version,
        "entitled_area": entitled,
        "flats": [
            {
                "site": u.building.site.name,
                "building": u.building.name,
                "entrance": u.entrance,
                "number": u.number,
                "label": u.label,
                "area": u.area,
            }
            for u in units
        ],
        "flat_area": flat_area,
        "area_difference": _area_difference(flat_area, entitled),
        "tiers": tiers,
        "flat_price": flat_price,
        "compensation": compensation,
        "compensation_total": compensation_total,
        "net": _net(figures.total),
        "allowance_note": (
            _(
                "The temporary allowance is counted to %(day)s: the flat is not handed over yet.",
                day=as_of.isoformat(),
            )
            if handed_over_on is None and any(k.startswith("allowance") for k in lines)
            else ""
        ),
        "handed_over_on": handed_over_on,
        "payments": _payments(session, household.id),
        "paid_out": money(figures.paid + figures.received),
        "received": figures.received,
        "balance": figures.balance.value,
        "balance_label": str(BALANCE_LABELS[figures.balance]),
        "balance_amount": figures.balance_amount,
        "balance_capitals": amount_in_capitals(figures.balance_amount),
    }


def _area_difference(flat_area: Decimal, entitled: Decimal) -> dict[str, Any]:
    """How the flat compares with the entitled area, without a sign: more, less or the same."""
    difference = flat_area - entitled
    if difference > 0:
        direction, text = "more", _("%(m2)s m² more than entitled", m2=f"{difference:,.2f}")
    elif difference < 0:
        direction, text = "less", _("%(m2)s m² less than entitled", m2=f"{-difference:,.2f}")
    else:
        direction, text = "equal", _("the same as the entitled area")
    return {"direction": direction, "m2": abs(difference), "text": text}


def _net(total: Decimal) -> dict[str, Any]:
    """The compensation less the flat's price, said as who owes it (never a bare negative)."""
    return {
        "amount": abs(total),
        "owed_by_household": total < 0,
        "text": _("The household pays the office")
        if total < 0
        else _("The office pays the household"),
    }


def _payments(session: Session, household_id: int) -> list[dict[str, Any]]:
    """The household's payments and receipts that stand (reversed ones left out), by date."""
    rows = session.scalars(
        sa.select(Payment)
        .where(Payment.household_id == household_id, Payment.reversed_at.is_(None))
        .order_by(Payment.paid_on, Payment.id)
    )
    return [
        {
            "paid_on": p.paid_on,
            "kind": str(PAYMENT_KIND_LABELS[p.kind]),
            "voucher_number": p.voucher_number,
            "amount": p.amount,
            "incoming": p.kind in INCOMING_KINDS,
        }
        for p in rows
    ]
