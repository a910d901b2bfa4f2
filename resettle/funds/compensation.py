"""Compensation of one household, line by line, with the formula of every line (DOMAIN.md, "Money").

Pure: plain facts and rule terms in, Decimal lines out (rounded half-up to the fen, no float).
Each line carries the formula with its numbers filled in, so the household page, the notices
and the resident page can show how a figure was reached.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from resettle.db import money
from resettle.i18n import format_money
from resettle.months import months_between
from resettle.translate import gettext as _

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Line:
    """One line of a household's compensation: what, how much, and how it was computed."""

    key: str
    label: str
    amount: Decimal
    formula: str


@dataclass(frozen=True)
class PriceItem:
    """One entry of a rule version's price list (附属物/构筑物, 设施移装)."""

    name: str
    unit: str
    price: Decimal


@dataclass(frozen=True)
class Adjustment:
    """A line the office decided case by case (其他补偿/扣减), with its reason."""

    key: str
    label: str
    amount: Decimal
    reason: str


#: The house uses that are residential; any other use gets the business-loss compensation.
RESIDENTIAL = "住宅"
SHARE, MONTHLY = "share", "monthly"  # the business-loss methods (funds.models.BusinessLossMethod)


@dataclass(frozen=True)
class Terms:
    """The compensation rules of one version, as plain values."""

    moving_per_m2: Decimal
    temporary_per_m2_month: Decimal
    started_month_counts: bool
    signing_bonus: Decimal
    price_within_entitled: Decimal
    band_m2: Decimal
    price_first_band: Decimal
    price_beyond_band: Decimal
    overrun_tiers: tuple[tuple[int, Decimal], ...]  # (from overdue month, multiplier), ascending
    transition_months: int
    signing_start: date | None = None
    signing_end: date | None = None
    # (signed on or before, amount), by date: replace the single bonus when given
    signing_tiers: tuple[tuple[date, Decimal], ...] = ()
    moving_bonus_tiers: tuple[tuple[date, Decimal], ...] = ()  # by the vacating date
    price_list: tuple[PriceItem, ...] = ()
    business_loss_method: str | None = None  # SHARE, MONTHLY or None (no such compensation)
    business_loss_percent: Decimal | None = None
    business_loss_months: int | None = None
    business_loss_per_m2_month: Decimal | None = None
    lawful_unregistered_per_m2: Decimal = ZERO
    hardship_subsidy: Decimal = ZERO


@dataclass(frozen=True)
class Facts:
    """What the computation needs to know about one household."""

    swap: bool  # property swap or mixed: a flat, a transition, twice the moving allowance
    legal_area: Decimal
    appraisal_unit_price: Decimal | None
    appraisal_value: Decimal | None
    entitled_area: Decimal | None
    flat_area: Decimal | None  # the allocated flat(s); None before selection
    signed_on: date | None
    vacated_on: date | None
    handed_over_on: date | None
    house_use: str = RESIDENTIAL
    decoration_value: Decimal | None = None
    business_area: Decimal | None = None  # None: the legal area
    lawful_unregistered_area: Decimal = ZERO
    hardship: str | None = None  # why the household qualifies for the hardship subsidy
    fixtures: tuple[tuple[str, Decimal], ...] = ()  # (price-list item, quantity)
    adjustments: tuple[Adjustment, ...] = ()
    transit_flat: bool = False  # lent a transit flat (周转房): no temporary allowance


def parse_tiers(text: str) -> tuple[tuple[int, Decimal], ...]:
    """ "1:2" or "1:1.5,7:2" → ((1, 1.5), (7, 2)); ValueError on anything else (a month
    beyond 600, a multiplier below 1, above 100 or not a plain number such as 1e400)."""
    tiers = []
    for part in (text or "").replace("，", ",").replace("：", ":").split(","):
        part = part.strip()
        if not part:
            continue
        month, _sep, factor = part.partition(":")
        tiers.append((int(month), Decimal(factor.strip())))
    tiers.sort()
    if not tiers or tiers[0][0] < 1 or tiers[-1][0] > 600:
        raise ValueError(text)
    if any(not f.is_finite() or not 1 <= f <= 100 for _m, f in tiers):
        raise ValueError(text)
    if len({m for m, _f in tiers}) != len(tiers):
        raise ValueError(text)
    return tuple(tiers)


#: The largest amount a rule term holds (Money is Numeric(14, 2)).
_AMOUNT_LIMIT = Decimal(10) ** 12


def parse_date_tiers(text: str) -> tuple[tuple[date, Decimal], ...]:
    """ "2025-03-31:30000,2025-04-30:20000" → ((2025-03-31, 30000.00), (2025-04-30, 20000.00)),
    by date; empty text: no tiers. ValueError on anything else (a date that is no date, the
    same date twice, an amount that is negative, not a plain number or has more than two
    decimals)."""
    tiers = []
    normalised = unicodedata.normalize("NFKC", text or "")
    for part in normalised.replace(";", ",").replace("\n", ",").split(","):
        part = part.strip()
        if not part:
            continue
        day, sep, amount = part.partition(":")
        if not sep:
            raise ValueError(text)
        try:
            value = Decimal(amount.strip())
        except InvalidOperation:
            raise ValueError(text) from None
        if not value.is_finite() or not ZERO <= value < _AMOUNT_LIMIT or value != money(value):
            raise ValueError(text)
        tiers.append((date.fromisoformat(day.strip()), money(value)))
    tiers.sort()
    if len({d for d, _a in tiers}) != len(tiers):
        raise ValueError(text)
    return tuple(tiers)


def format_date_tiers(tiers: Sequence[tuple[date, Decimal]]) -> str:
    """The tiers as `parse_date_tiers` reads them."""
    return ",".join(f"{day.isoformat()}:{amount:f}" for day, amount in tiers)


def tier_for(
    day: date | None, tiers: Sequence[tuple[date, Decimal]]
) -> tuple[date, Decimal] | None:
    """The first tier (by date) that `day` is on or before; None when none is."""
    if day is None:
        return None
    return next(((limit, amount) for limit, amount in tiers if day <= limit), None)


def _m2(value: Decimal) -> str:
    return f"{value:,.2f} m²"


def _yuan(value: Decimal) -> str:
    return _("%(amount)s yuan", amount=format_money(value))


def overrun_blocks(
    overdue_months: int, tiers: Sequence[tuple[int, Decimal]]
) -> list[tuple[int, int, Decimal]]:
    """Split overdue months 1..n into (first, last, multiplier) blocks by tier."""
    blocks = []
    for i, (first, factor) in enumerate(tiers):
        last = tiers[i + 1][0] - 1 if i + 1 < len(tiers) else overdue_months
        first = max(first, 1)
        last = min(last, overdue_months)
        if first <= last:
            blocks.append((first, last, factor))
    if tiers and tiers[0][0] > 1 and overdue_months > 0:  # before the first tier: ×1
        blocks.insert(0, (1, min(tiers[0][0] - 1, overdue_months), Decimal(1)))
    return blocks


def house_value(facts: Facts) -> Decimal | None:
    """The appraised value, or legal area × appraised unit price when only the price is known."""
    if facts.appraisal_value is not None:
        return money(facts.appraisal_value)
    if facts.appraisal_unit_price is not None:
        return money(facts.legal_area * facts.appraisal_unit_price)
    return None


def moving_times(facts: Facts) -> int:
    """Moving allowance is paid once, and a second time when a swap household moves in."""
    return 1 + (1 if facts.swap and facts.handed_over_on else 0)


def bonus_applies(facts: Facts, terms: Terms) -> bool:
    """True when the household signed inside the signing window (and there is a bonus); with
    signing-reward tiers, when a tier applies."""
    if terms.signing_tiers:
        tier = tier_for(facts.signed_on, terms.signing_tiers)
        return tier is not None and tier[1] > 0
    return (
        facts.signed_on is not None
        and terms.signing_bonus > 0
        and (terms.signing_start is None or facts.signed_on >= terms.signing_start)
        and (terms.signing_end is None or facts.signed_on <= terms.signing_end)
    )


def signing_reward(facts: Facts, terms: Terms) -> Decimal:
    """The signing bonus or reward the household earned (zero when none)."""
    if not bonus_applies(facts, terms):
        return ZERO
    if terms.signing_tiers:
        return tier_for(facts.signed_on, terms.signing_tiers)[1]  # type: ignore[index]
    return money(terms.signing_bonus)


def fixture_parts(facts: Facts, terms: Terms) -> list[tuple[str, Decimal, PriceItem | None]]:
    """(item name, quantity, its price-list entry) of the household's fixtures; the entry is
    None when the version's price list has no such item (the line says so, at zero)."""
    prices = {item.name: item for item in terms.price_list}
    return [(name, quantity, prices.get(name)) for name, quantity in facts.fixtures if quantity]


def is_business(facts: Facts) -> bool:
    """A house not used as a residence (商住, 非住宅): its business losses are compensated."""
    return (facts.house_use or RESIDENTIAL) != RESIDENTIAL


def business_area(facts: Facts) -> Decimal:
    """The area used for business: as recorded, else the legal area."""
    return facts.business_area if facts.business_area is not None else facts.legal_area


def business_loss(facts: Facts, terms: Terms) -> Decimal | None:
    """The business-loss compensation (停产停业损失), None when none applies."""
    if not is_business(facts) or terms.business_loss_method is None:
        return None
    if terms.business_loss_method == SHARE:
        value = house_value(facts)
        if value is None or terms.business_loss_percent is None:
            return None
        return money(value * terms.business_loss_percent / 100)
    if terms.business_loss_months is None or terms.business_loss_per_m2_month is None:
        return None
    return money(
        business_area(facts) * terms.business_loss_per_m2_month * terms.business_loss_months
    )


def flat_parts(
    flat: Decimal, entitled: Decimal, terms: Terms
) -> list[tuple[str, Decimal, Decimal]]:
    """(key, m², price per m²) of the new flat in the three price tiers, empty tiers left out."""
    within = min(flat, entitled)
    band = min(max(flat - entitled, ZERO), terms.band_m2)
    beyond = max(flat - entitled - terms.band_m2, ZERO)
    parts = [
        ("flat_within", within, terms.price_within_entitled),
        ("flat_band", band, terms.price_first_band),
        ("flat_beyond", beyond, terms.price_beyond_band),
    ]
    return [p for p in parts if p[1] > 0]


def allowance_parts(start: date, end: date, terms: Terms) -> list[tuple[str, int, int, Decimal]]:
    """(key, first month, last month, multiplier) of the temporary allowance from start to end:
    months within the transition period at ×1, then the overdue months in their tiers."""
    months = months_between(start, end, terms.started_month_counts)
    if months <= 0:
        return []
    normal = min(months, terms.transition_months)
    parts = [("allowance", 1, normal, Decimal(1))] if normal else []
    for first, last, factor in overrun_blocks(months - normal, terms.overrun_tiers):
        parts.append((f"allowance_overrun_{normal + first}", normal + first, normal + last, factor))
    return parts


def amounts(facts: Facts, terms: Terms, *, until: date) -> dict[str, Decimal]:
    """The line amounts by key, without labels or formulas (for plans over many households)."""
    out: dict[str, Decimal] = {}
    value = house_value(facts)
    if value is not None:
        out["value"] = value
    if facts.decoration_value is not None and facts.decoration_value > 0:
        out["decoration"] = money(facts.decoration_value)
    for name, quantity, item in fixture_parts(facts, terms):
        out[fixture_key(name)] = money(quantity * item.price) if item is not None else ZERO
    if facts.lawful_unregistered_area > 0 and terms.lawful_unregistered_per_m2 > 0:
        out["unregistered_lawful"] = money(
            facts.lawful_unregistered_area * terms.lawful_unregistered_per_m2
        )
    loss = business_loss(facts, terms)
    if loss is not None:
        out["business_loss"] = loss
    out["moving"] = money(facts.legal_area * terms.moving_per_m2 * moving_times(facts))
    if facts.hardship and terms.hardship_subsidy > 0:
        out["hardship"] = money(terms.hardship_subsidy)
    if bonus_applies(facts, terms):
        out["bonus"] = signing_reward(facts, terms)
    moving_bonus = tier_for(facts.vacated_on, terms.moving_bonus_tiers)
    if moving_bonus is not None and moving_bonus[1] > 0:
        out["moving_bonus"] = moving_bonus[1]
    for adjustment in facts.adjustments:
        out[adjustment.key] = money(adjustment.amount)
    if facts.swap and facts.flat_area is not None and facts.entitled_area is not None:
        for key, m2, price in flat_parts(facts.flat_area, facts.entitled_area, terms):
            out[key] = -money(m2 * price)
    elif facts.swap and facts.entitled_area is not None:  # no flat yet: the entitled area
        out["flat_entitled"] = -money(facts.entitled_area * terms.price_within_entitled)
    if facts.swap and facts.vacated_on is not None and not facts.transit_flat:
        end = facts.handed_over_on or until
        for key, first, last, factor in allowance_parts(facts.vacated_on, end, terms):
            out[key] = money(
                facts.legal_area * terms.temporary_per_m2_month * factor * (last - first + 1)
            )
    return out


FIXTURE_PREFIX = "fixture:"


def fixture_key(name: str) -> str:
    """The line key of a price-list item."""
    return FIXTURE_PREFIX + name


def _quantity(value: Decimal) -> str:
    """3.00 → "3", 12.50 → "12.5"."""
    return f"{value.normalize():f}"


def compute(facts: Facts, terms: Terms, *, until: date) -> list[Line]:
    """The household's lines as of `until` (the end of a transition still running)."""
    amount = amounts(facts, terms, until=until)
    area = facts.legal_area
    yuan_m2 = _("yuan/m²")
    lines: list[Line] = []
    if "value" in amount:
        if facts.appraisal_value is not None:
            formula = _("appraised value") + f" = {_yuan(amount['value'])}"
        else:
            formula = (
                f"{_m2(area)} × {format_money(facts.appraisal_unit_price)} {yuan_m2}"
                f" = {_yuan(amount['value'])}"
            )
        lines.append(Line("value", _("House value compensation"), amount["value"], formula))
    if "decoration" in amount:
        lines.append(
            Line(
                "decoration",
                _("Decoration compensation"),
                amount["decoration"],
                _("appraised amount") + f" = {_yuan(amount['decoration'])}",
            )
        )
    for name, quantity, item in fixture_parts(facts, terms):
        key = fixture_key(name)
        if item is None:
            formula = _("%(name)s is not in the price list of these rules", name=name) + (
                f" = {_yuan(amount[key])}"
            )
        else:
            formula = (
                f"{_quantity(quantity)} {item.unit} × {_yuan(item.price)} = {_yuan(amount[key])}"
            )
        lines.append(Line(key, name, amount[key], formula))
    if "unregistered_lawful" in amount:
        lines.append(
            Line(
                "unregistered_lawful",
                _("Unregistered building found lawful"),
                amount["unregistered_lawful"],
                f"{_m2(facts.lawful_unregistered_area)} × "
                f"{format_money(terms.lawful_unregistered_per_m2)} {yuan_m2}"
                f" = {_yuan(amount['unregistered_lawful'])}",
            )
        )
    if "business_loss" in amount:
        if terms.business_loss_method == SHARE:
            formula = (
                f"{_yuan(house_value(facts))} × {terms.business_loss_percent.normalize():f}%"
                f" = {_yuan(amount['business_loss'])}"
            )
        else:
            formula = (
                f"{_m2(business_area(facts))} × "
                f"{format_money(terms.business_loss_per_m2_month)} {_('yuan/m²/month')} × "
                + _("%(n)d months", n=terms.business_loss_months)
                + f" = {_yuan(amount['business_loss'])}"
            )
        lines.append(
            Line("business_loss", _("Business-loss compensation"), amount["business_loss"], formula)
        )
    lines.append(
        Line(
            "moving",
            _("Moving allowance"),
            amount["moving"],
            f"{_m2(area)} × {format_money(terms.moving_per_m2)} {yuan_m2} × "
            + _("%(n)d times", n=moving_times(facts))
            + f" = {_yuan(amount['moving'])}",
        )
    )
    if "hardship" in amount:
        lines.append(
            Line(
                "hardship",
                _("Hardship subsidy"),
                amount["hardship"],
                _("%(reason)s, a fixed amount per household", reason=facts.hardship)
                + f" = {_yuan(amount['hardship'])}",
            )
        )
    if "bonus" in amount:
        day = facts.signed_on.isoformat()
        if terms.signing_tiers:
            limit = tier_for(facts.signed_on, terms.signing_tiers)[0]  # type: ignore[index]
            label = _("Signing reward")
            formula = _("signed on %(day)s, on or before %(limit)s", day=day, limit=limit)
        else:
            label = _("Signing bonus")
            formula = _("signed on %(day)s, inside the signing window", day=day)
        lines.append(Line("bonus", label, amount["bonus"], f"{formula} = {_yuan(amount['bonus'])}"))
    if "moving_bonus" in amount:
        limit = tier_for(facts.vacated_on, terms.moving_bonus_tiers)[0]  # type: ignore[index]
        lines.append(
            Line(
                "moving_bonus",
                _("Moving bonus"),
                amount["moving_bonus"],
                _(
                    "vacated on %(day)s, on or before %(limit)s",
                    day=facts.vacated_on.isoformat(),
                    limit=limit,
                )
                + f" = {_yuan(amount['moving_bonus'])}",
            )
        )
    for adjustment in facts.adjustments:
        lines.append(
            Line(
                adjustment.key,
                adjustment.label,
                amount[adjustment.key],
                f"{adjustment.reason} = {_yuan(amount[adjustment.key])}",
            )
        )
    labels = {
        "flat_within": _("New flat within the entitled area"),
        "flat_band": _("New flat, first extra band"),
        "flat_beyond": _("New flat beyond the band"),
    }
    if facts.swap and facts.flat_area is not None and facts.entitled_area is not None:
        for key, m2, price in flat_parts(facts.flat_area, facts.entitled_area, terms):
            lines.append(
                Line(
                    key,
                    labels[key],
                    amount[key],
                    f"−({_m2(m2)} × {format_money(price)} {yuan_m2}) = {_yuan(amount[key])}",
                )
            )
    elif "flat_entitled" in amount:
        lines.append(
            Line(
                "flat_entitled",
                _("New flat, the entitled area (until a flat is chosen)"),
                amount["flat_entitled"],
                f"−({_m2(facts.entitled_area)} × {format_money(terms.price_within_entitled)} "
                f"{yuan_m2}) = {_yuan(amount['flat_entitled'])}",
            )
        )
    if facts.swap and facts.vacated_on is not None and not facts.transit_flat:
        end = facts.handed_over_on or until
        rate = terms.temporary_per_m2_month
        per_month = _("yuan/m²/month")
        for key, first, last, factor in allowance_parts(facts.vacated_on, end, terms):
            n = last - first + 1
            if key == "allowance":
                label = _("Temporary resettlement allowance")
                times = ""
            else:
                label = _(
                    "Temporary allowance past the transition period (months %(first)d–%(last)d)",
                    first=first,
                    last=last,
                )
                times = f" × {factor.normalize():f}"
            lines.append(
                Line(
                    key,
                    label,
                    amount[key],
                    f"{_m2(area)} × {format_money(rate)} {per_month}{times} × "
                    + _("%(n)d months", n=n)
                    + f" = {_yuan(amount[key])}",
                )
            )
    return lines


def total(lines: Sequence[Line]) -> Decimal:
    """The sum of the lines (positive: paid to the household; negative: the household pays)."""
    return money(sum((line.amount for line in lines), ZERO))
