"""Compensation of one household, line by line, with the formula of every line (DOMAIN.md, "Money").

Pure: plain facts and rule terms in, Decimal lines out (rounded half-up to the fen, no float).
Each line carries the formula with its numbers filled in, so the household page, the notices
and the resident page can show how a figure was reached.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

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
    """True when the household signed inside the signing window (and there is a bonus)."""
    return (
        facts.signed_on is not None
        and terms.signing_bonus > 0
        and (terms.signing_start is None or facts.signed_on >= terms.signing_start)
        and (terms.signing_end is None or facts.signed_on <= terms.signing_end)
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
    out["moving"] = money(facts.legal_area * terms.moving_per_m2 * moving_times(facts))
    if bonus_applies(facts, terms):
        out["bonus"] = money(terms.signing_bonus)
    if facts.swap and facts.flat_area is not None and facts.entitled_area is not None:
        for key, m2, price in flat_parts(facts.flat_area, facts.entitled_area, terms):
            out[key] = -money(m2 * price)
    if facts.swap and facts.vacated_on is not None:
        end = facts.handed_over_on or until
        for key, first, last, factor in allowance_parts(facts.vacated_on, end, terms):
            out[key] = money(
                facts.legal_area * terms.temporary_per_m2_month * factor * (last - first + 1)
            )
    return out


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
    if "bonus" in amount:
        lines.append(
            Line(
                "bonus",
                _("Signing bonus"),
                amount["bonus"],
                _("signed on %(day)s, inside the signing window", day=facts.signed_on.isoformat())
                + f" = {_yuan(amount['bonus'])}",
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
    if facts.swap and facts.vacated_on is not None:
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
