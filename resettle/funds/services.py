"""Fund scheduling (资金调度): rule versions, each household's money, reversals, sources and the
monthly fund plan with its first shortfall."""

from __future__ import annotations

import enum
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from resettle import clock
from resettle.agreements.models import Agreement, latest_agreement
from resettle.audit.services import audit_value, record_event
from resettle.auth.models import User
from resettle.chinese import chinese
from resettle.db import core_connection, money, utcnow
from resettle.errors import RuleViolation
from resettle.funds.compensation import (
    FIXTURE_PREFIX,
    ZERO,
    Adjustment,
    Facts,
    Line,
    PriceItem,
    Terms,
    allowance_parts,
    amounts,
    compute,
    format_date_tiers,
    parse_date_tiers,
    parse_tiers,
    total,
)
from resettle.funds.models import (
    INCOMING_KINDS,
    BusinessLossMethod,
    CompensationRule,
    FundSource,
    MonthCounting,
    Payment,
    PaymentKind,
    RulePriceItem,
    SourceKind,
)
from resettle.households.models import (
    CaseStep,
    CompensationMode,
    Household,
    HouseholdAdjustment,
    HouseholdFixture,
    Stage,
)
from resettle.months import month_index, month_label, months_between
from resettle.plans.deadlines import sets_deadline_sql
from resettle.plans.models import Plan, PlanNode
from resettle.projects.models import ExpropriationProject
from resettle.sites.models import Unit
from resettle.translate import gettext as _
from resettle.translate import lazy_gettext as _l

SWAP = (CompensationMode.SWAP, CompensationMode.MIXED)


# --- rules -------------------------------------------------------------------------------


@dataclass
class RuleData:
    effective_from: date
    moving_allowance_per_m2: Decimal
    temporary_allowance_per_m2_month: Decimal
    signing_bonus: Decimal
    price_within_entitled: Decimal
    band_m2: Decimal
    price_first_band: Decimal
    price_beyond_band: Decimal
    overrun_tiers: str = "1:2"
    month_counting: MonthCounting = MonthCounting.STARTED
    compensation_due_days: int = 15
    note: str | None = None
    signing_reward_tiers: str = ""
    moving_bonus_tiers: str = ""
    business_loss_method: BusinessLossMethod | str | None = None
    business_loss_percent: Decimal | None = None
    business_loss_months: int | None = None
    business_loss_per_m2_month: Decimal | None = None
    lawful_unregistered_per_m2: Decimal = Decimal("0")
    hardship_subsidy: Decimal = Decimal("0")
    # The price list as text, one item a line: "name,unit,price" (空调移装,台,300). None: the
    # previous version's list, copied.
    price_list: str | None = None


MONEY_FIELDS = (
    "moving_allowance_per_m2",
    "temporary_allowance_per_m2_month",
    "signing_bonus",
    "price_within_entitled",
    "band_m2",
    "price_first_band",
    "price_beyond_band",
    "lawful_unregistered_per_m2",
    "hardship_subsidy",
)
# The other terms a new version takes as they are given (checked in `create_rule_version`).
OTHER_FIELDS = (
    "overrun_tiers",
    "month_counting",
    "compensation_due_days",
    "signing_reward_tiers",
    "moving_bonus_tiers",
    "business_loss_method",
    "business_loss_percent",
    "business_loss_months",
    "business_loss_per_m2_month",
)

_PRICE_NAME = RulePriceItem.__table__.c.name.type.length
_PRICE_UNIT = RulePriceItem.__table__.c.unit.type.length


def parse_price_list(text: str) -> list[tuple[str, str, Decimal]]:
    """ "空调移装,台,300" per line → [(name, unit, price)], in the order given; RuleViolation
    naming the line that is not an item with a unit and a price of zero or more, or whose name
    came before."""
    items: list[tuple[str, str, Decimal]] = []
    seen: set[str] = set()
    text = unicodedata.normalize("NFKC", text or "")
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        parts = [p.strip() for p in line.replace("，", ",").split(",")]
        try:
            if len(parts) != 3 or not parts[0] or not parts[1]:
                raise ValueError(line)
            price = Decimal(parts[2])
            if not price.is_finite() or price < 0 or price != money(price) or price >= 10**12:
                raise ValueError(line)
            if len(parts[0]) > _PRICE_NAME or len(parts[1]) > _PRICE_UNIT:
                raise ValueError(line)
        except (ValueError, InvalidOperation):
            raise RuleViolation(
                _(
                    "Line %(n)d of the price list: write name,unit,price, such as "
                    "空调移装,台,300 (a name of up to 40 characters, a unit of up to 20, a "
                    "price of zero or more in yuan).",
                    n=number,
                ),
                "price_list",
            ) from None
        if parts[0] in seen:
            raise RuleViolation(
                _(
                    "Line %(n)d of the price list: %(name)s is listed twice.",
                    n=number,
                    name=parts[0],
                ),
                "price_list",
            )
        seen.add(parts[0])
        items.append((parts[0], parts[1], money(price)))
    return items


def price_list_text(rule: CompensationRule | None) -> str:
    """A version's price list as `parse_price_list` reads it (to start the next version from)."""
    if rule is None:
        return ""
    return "\n".join(f"{i.name},{i.unit},{i.price:f}" for i in rule.price_items)


def _date_tiers(text: str, field_name: str) -> str:
    try:
        tiers = parse_date_tiers(text)
        normalised = format_date_tiers(tiers)
        if len(normalised) > CompensationRule.__table__.c[field_name].type.length:
            raise ValueError(normalised)
    except ValueError:
        raise RuleViolation(
            _(
                "Write the tiers as date:amount, one date on or before which the amount "
                "applies, such as 2025-03-31:30000,2025-04-30:20000."
            ),
            field_name,
        ) from None
    return normalised


def _business_loss(data: RuleData) -> None:
    """Check the business-loss terms the method needs; the others are dropped."""
    method = BusinessLossMethod(data.business_loss_method) if data.business_loss_method else None
    data.business_loss_method = method
    if method != BusinessLossMethod.SHARE:
        data.business_loss_percent = None
    if method != BusinessLossMethod.MONTHLY:
        data.business_loss_months = None
        data.business_loss_per_m2_month = None
    if method == BusinessLossMethod.SHARE:
        try:
            percent = money(data.business_loss_percent)
        except (InvalidOperation, TypeError, ValueError):
            percent = None
        if percent is None or not 0 < percent <= 100:
            raise RuleViolation(
                _("Enter the share of the house value, more than 0 and at most 100 (%)."),
                "business_loss_percent",
            )
        data.business_loss_percent = percent
    if method == BusinessLossMethod.MONTHLY:
        months = data.business_loss_months
        if months is None or not 1 <= months <= 120:
            raise RuleViolation(
                _("Enter the months of business loss, 1 to 120."), "business_loss_months"
            )
        try:
            rate = money(data.business_loss_per_m2_month)
        except (InvalidOperation, TypeError, ValueError):
            rate = None
        if rate is None or rate < 0 or rate >= 10**12:
            raise RuleViolation(
                _("Enter the rate per m² a month, zero or more."), "business_loss_per_m2_month"
            )
        data.business_loss_per_m2_month = rate


def create_rule_version(
    session: Session, project: ExpropriationProject, data: RuleData
) -> CompensationRule:
    """A new version of the project's rules; households that signed keep theirs. Without a
    price list it takes the previous version's."""
    for name in ("lawful_unregistered_per_m2", "hardship_subsidy"):  # not given: none
        if getattr(data, name) is None:
            setattr(data, name, ZERO)
    for name in MONEY_FIELDS:
        try:
            value = money(getattr(data, name))
        except (InvalidOperation, TypeError, ValueError):
            raise RuleViolation(_("Enter a number."), name) from None
        if value < 0:
            raise RuleViolation(_("This amount cannot be negative."), name)
        setattr(data, name, value)
    try:
        tiers = parse_tiers(data.overrun_tiers)
        overrun_tiers = ",".join(f"{m}:{f.normalize():f}" for m, f in tiers)
        if len(overrun_tiers) > CompensationRule.__table__.c.overrun_tiers.type.length:
            raise ValueError(overrun_tiers)
    except (ValueError, InvalidOperation):
        raise RuleViolation(
            _("Write the overrun tiers as month:multiplier, such as 1:2 or 1:1.5,7:2."),
            "overrun_tiers",
        ) from None
    if data.compensation_due_days is None or data.compensation_due_days < 0:
        raise RuleViolation(_("Enter a whole number, zero or more."), "compensation_due_days")
    data.overrun_tiers = overrun_tiers
    data.month_counting = MonthCounting(data.month_counting)
    data.signing_reward_tiers = _date_tiers(data.signing_reward_tiers, "signing_reward_tiers")
    data.moving_bonus_tiers = _date_tiers(data.moving_bonus_tiers, "moving_bonus_tiers")
    _business_loss(data)
    latest = session.scalar(
        sa.select(CompensationRule)
        .where(CompensationRule.project_id == project.id)
        .order_by(CompensationRule.version.desc())
        .limit(1)
    )
    if data.price_list is None:  # the previous version's list goes on
        prices = [(i.name, i.unit, i.price) for i in latest.price_items] if latest else []
    else:
        prices = parse_price_list(data.price_list)
    rule = CompensationRule(
        project_id=project.id,
        version=(latest.version if latest else 0) + 1,
        effective_from=data.effective_from,
        note=(data.note or "").strip() or None,
        # the project's signing window and transition period as they are now, fixed with it
        signing_start=project.signing_start,
        signing_end=project.signing_end,
        transition_months=project.transition_months,
        price_items=[RulePriceItem(name=n, unit=u, price=p) for n, u, p in prices],
        **{name: getattr(data, name) for name in (*MONEY_FIELDS, *OTHER_FIELDS)},
    )
    session.add(rule)
    session.flush()
    return rule


_RULE_IN_FORCE = (
    sa.select(CompensationRule.id)
    .where(
        CompensationRule.project_id == sa.bindparam("project_id"),
        CompensationRule.effective_from <= sa.bindparam("on"),
    )
    .order_by(CompensationRule.version.desc())
    .limit(1)
)
_FIRST_RULE = (
    sa.select(CompensationRule.id)
    .where(CompensationRule.project_id == sa.bindparam("project_id"))
    .order_by(CompensationRule.version)
    .limit(1)
)


def current_rule_id(session: Session | sa.Connection, project_id: int, on: date) -> int | None:
    """The id of the newest rule version in force on a date (the first version before any
    is in force); None when the project has no rules."""
    conn = core_connection(session)
    return conn.scalar(_RULE_IN_FORCE, {"project_id": project_id, "on": on}) or conn.scalar(
        _FIRST_RULE, {"project_id": project_id}
    )


def current_rule(session: Session, project_id: int, on: date) -> CompensationRule | None:
    """The newest rule version in force on a date (the first version before it starts)."""
    rule_id = current_rule_id(session, project_id, on)
    return session.get(CompensationRule, rule_id) if rule_id is not None else None


def terms_of(rule: CompensationRule, project: ExpropriationProject) -> Terms:
    """A rule version (a model) as the plain terms the computation takes, every item."""
    method = rule.business_loss_method
    return replace(
        base_terms(rule, project),
        signing_tiers=parse_date_tiers(rule.signing_reward_tiers or ""),
        moving_bonus_tiers=parse_date_tiers(rule.moving_bonus_tiers or ""),
        price_list=tuple(PriceItem(i.name, i.unit, i.price) for i in rule.price_items),
        business_loss_method=method.value if method else None,
        business_loss_percent=rule.business_loss_percent,
        business_loss_months=rule.business_loss_months,
        business_loss_per_m2_month=rule.business_loss_per_m2_month,
        lawful_unregistered_per_m2=rule.lawful_unregistered_per_m2,
        hardship_subsidy=rule.hardship_subsidy,
    )


def base_terms(rule: Any, project: Any) -> Terms:
    """The terms of the house value, moving and temporary allowance, bonus and flat price,
    from anything with the rule's columns (a model or a row): enough for the allowance."""
    return Terms(
        moving_per_m2=rule.moving_allowance_per_m2,
        temporary_per_m2_month=rule.temporary_allowance_per_m2_month,
        started_month_counts=rule.month_counting == MonthCounting.STARTED,
        signing_bonus=rule.signing_bonus,
        price_within_entitled=rule.price_within_entitled,
        band_m2=rule.band_m2,
        price_first_band=rule.price_first_band,
        price_beyond_band=rule.price_beyond_band,
        overrun_tiers=parse_tiers(rule.overrun_tiers),
        # fixed with the version (a version from before they were: the project's)
        **_entitlement_terms(rule, project),
    )


def _entitlement_terms(rule: CompensationRule, project: ExpropriationProject) -> dict[str, Any]:
    source: Any = rule if rule.transition_months is not None else project
    return {
        "transition_months": source.transition_months,
        "signing_start": source.signing_start,
        "signing_end": source.signing_end,
    }


def renew_rule_for_new_terms(
    session: Session, project: ExpropriationProject, *, on: date
) -> CompensationRule | None:
    """The project's signing window or transition period changed: a new rule version from `on`
    carries them (the same amounts), for households that sign from then on; those that signed
    keep the version they signed under. None when the project has no rules yet."""
    current = current_rule(session, project.id, on)
    if current is None:
        return None
    return create_rule_version(
        session,
        project,
        RuleData(
            effective_from=max(on, current.effective_from),
            note=chinese("Signing window or transition period changed"),
            price_list=price_list_text(current),
            **{name: getattr(current, name) for name in (*MONEY_FIELDS, *OTHER_FIELDS)},
        ),
    )


def assign_rule_at_signing(session: Session, household: Household, signed_on: date) -> None:
    """Remember the rule version in force when the household signed."""
    rule = current_rule(session, household.project_id, signed_on)
    household.rule_id = rule.id if rule else None


# --- one household -----------------------------------------------------------------------


class Balance(enum.StrEnum):
    """Which way money is still owed on a household's case."""

    PAYABLE = "payable"  # 应付: the office still owes the household
    RECEIVABLE = "receivable"  # 应收: the household owes the office (a larger flat, overpaid)
    SETTLED = "settled"  # 已结清
    ESTIMATE = "estimate"  # not signed yet: nothing is owed either way until it signs


BALANCE_LABELS = {
    Balance.PAYABLE: _l("Payable to the household"),
    Balance.RECEIVABLE: _l("Receivable from the household"),
    Balance.SETTLED: _l("Settled: nothing owed either way"),
    Balance.ESTIMATE: _l("Not signed yet: nothing is owed until the agreement"),
}


@dataclass
class HouseholdMoney:
    lines: list[Line]
    total: Decimal
    paid: Decimal  # paid out less received
    outstanding: Decimal  # positive: still to pay the household; negative: it owes
    rule: CompensationRule | None
    estimate: bool  # not signed yet: the figures are an estimate under the current rules
    received: Decimal = ZERO  # what the household paid in (receipts)

    @property
    def balance(self) -> Balance:
        if self.estimate and not self.paid:
            return Balance.ESTIMATE
        if self.outstanding > 0:
            return Balance.PAYABLE
        return Balance.RECEIVABLE if self.outstanding < 0 else Balance.SETTLED

    @property
    def balance_amount(self) -> Decimal:
        """The outstanding amount without its sign (the balance says which way it runs)."""
        return abs(self.outstanding)


def _actual(household: Household, stage: Stage) -> date | None:
    return next((s.actual_date for s in household.steps if s.stage == stage), None)


def facts_of(household: Household) -> Facts:
    """What the computation needs, read from the household, its steps, its flats, its
    fixtures and its free lines."""
    return with_items(
        facts_from(
            household,
            {s.stage: s.actual_date for s in household.steps if s.actual_date is not None},
            [u.area for u in household.units],
        ),
        household,
        [(f.name, f.quantity) for f in household.fixtures],
        household.adjustments,
    )


# The household columns `facts_from` reads (besides the steps and the flats).
FACT_COLUMNS = (
    Household.compensation_mode,
    Household.legal_area,
    Household.appraisal_unit_price,
    Household.appraisal_value,
    Household.entitled_area,
    Household.transit_flat,
)


def facts_from(household: Any, done: dict[Stage, date], flat_areas: list[Decimal]) -> Facts:
    """The same from plain data: anything with the household's columns as attributes (a model
    or a row), the actual date of each stage done, and the areas of its flats."""
    return Facts(
        swap=household.compensation_mode in SWAP,
        legal_area=household.legal_area,
        appraisal_unit_price=household.appraisal_unit_price,
        appraisal_value=household.appraisal_value,
        entitled_area=household.entitled_area,
        flat_area=sum(flat_areas, ZERO) if flat_areas else None,
        signed_on=done.get(Stage.SIGNED),
        vacated_on=done.get(Stage.VACATED),
        handed_over_on=done.get(Stage.HANDED_OVER),
        transit_flat=bool(household.transit_flat),
    )


# The household columns `with_items` reads.
ITEM_COLUMNS = (
    Household.house_use,
    Household.decoration_value,
    Household.business_area,
    Household.lawful_unregistered_area,
    Household.hardship,
)


def with_items(
    facts: Facts,
    household: Any,
    fixtures: list[tuple[str, Decimal]],
    adjustments: list[Any],
) -> Facts:
    """The facts with the other items: decoration, business use, the unregistered area found
    lawful, hardship (anything with `ITEM_COLUMNS` as attributes), the fixtures (name,
    quantity) and the free lines (anything with id, label, amount and reason)."""
    return replace(
        facts,
        house_use=household.house_use,
        decoration_value=household.decoration_value,
        business_area=household.business_area,
        lawful_unregistered_area=household.lawful_unregistered_area or ZERO,
        hardship=household.hardship,
        fixtures=tuple(fixtures),
        adjustments=tuple(
            Adjustment(adjustment_key(a.id), a.label, a.amount, a.reason) for a in adjustments
        ),
    )


def adjustment_key(adjustment_id: int) -> str:
    """The line key of a free line."""
    return f"{ADJUSTMENT_PREFIX}{adjustment_id}"


ADJUSTMENT_PREFIX = "adjustment:"


#: The lines paid before a household moves out (先补偿、后搬迁): the compensation for the house
#: (its value, decoration, fixtures and relocations, business loss, the unregistered building
#: found lawful, the hardship subsidy, the free lines), the (first) moving allowance and the
#: signing bonus or reward; the moving bonus (earned by vacating), the transition allowance and
#: the flat's price come later. Fixtures and free lines are keyed by prefix. And the payment
#: kinds that count towards them (the items of the house are paid as compensation).
BEFORE_MOVING = (
    "value",
    "decoration",
    "unregistered_lawful",
    "business_loss",
    "moving",
    "hardship",
    "bonus",
)
BEFORE_MOVING_PREFIXES = (FIXTURE_PREFIX, ADJUSTMENT_PREFIX)
BEFORE_MOVING_KINDS = (PaymentKind.COMPENSATION, PaymentKind.MOVING_ALLOWANCE, PaymentKind.BONUS)


def swap_deduction(facts: Facts, terms: Terms) -> Decimal:
    """For a swap: the price of the entitled area, set against the compensation at signing
    (the flat beyond it is settled at the handover); zero otherwise."""
    if not facts.swap or facts.entitled_area is None:
        return ZERO
    return money(facts.entitled_area * terms.price_within_entitled)


def net_before_moving(due: dict[str, Decimal], facts: Facts, terms: Terms) -> Decimal:
    """What is paid before moving out (先补偿、后搬迁): the lines due before moving, for a swap
    net of the entitled area's price, never below zero (a household that owes pays at the
    handover, by the settlement sheet)."""
    before = money(sum((amount for key, amount in due.items() if is_before_moving(key)), ZERO))
    return money(max(before - swap_deduction(facts, terms), ZERO))


def is_before_moving(key: str) -> bool:
    """Whether the line of this key is paid before the household moves out."""
    return key in BEFORE_MOVING or key.startswith(BEFORE_MOVING_PREFIXES)


@dataclass(frozen=True)
class MovingDue:
    """What a household must have been paid before it moves out, and what it was paid by then."""

    due: Decimal
    paid: Decimal

    @property
    def outstanding(self) -> Decimal:
        return money(max(self.due - self.paid, ZERO))


def due_before_moving(session: Session, household: Household, *, by: date) -> MovingDue | None:
    """Compensate first, move later, in full: the amount due before moving out as the
    household's agreement says (without one: under the rule version it signed under), and
    what was paid on or before `by` (not reversed). None when nothing can be computed (no
    agreement and no compensation rules)."""
    agreed = agreed_before_moving(session, household.id)
    if agreed is None:
        rule = household.rule or current_rule(session, household.project_id, by)
        if rule is None:
            return None
        facts = replace(facts_of(household), vacated_on=None, handed_over_on=None, flat_area=None)
        terms = terms_of(rule, household.project)
        agreed = net_before_moving(amounts(facts, terms, until=by), facts, terms)
    paid = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Payment.amount), 0)).where(
            Payment.household_id == household.id,
            Payment.kind.in_(BEFORE_MOVING_KINDS),
            Payment.reversed_at.is_(None),
            Payment.paid_on <= by,
        )
    )
    return MovingDue(due=agreed, paid=money(paid or 0))


def agreed_before_moving(session: Session, household_id: int) -> Decimal | None:
    """What the household's agreement in force (the latest supplement, else the agreement)
    says is paid before it moves out: for a swap, net of the entitled area's price. None
    without an agreement."""
    return session.scalar(latest_agreement(household_id, Agreement.before_moving))


def paid_to(session: Session, household_id: int) -> Decimal:
    """Everything paid to the household and not reversed, less what it paid in (receipts)."""
    paid = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Payment.signed_amount), 0)).where(
            Payment.household_id == household_id, Payment.reversed_at.is_(None)
        )
    )
    return money(paid or 0)


def household_money(
    session: Session, household: Household, *, as_of: date | None = None
) -> HouseholdMoney | None:
    """The household's lines with formulas, and due / paid / outstanding, as of a day.

    None when the project has no compensation rules yet.
    """
    as_of = as_of or clock.today()
    rule = household.rule or current_rule(session, household.project_id, as_of)
    if rule is None:
        return None
    lines = compute(facts_of(household), terms_of(rule, household.project), until=as_of)
    due = total(lines)
    paid = paid_to(session, household.id)
    estimate = _actual(household, Stage.SIGNED) is None
    return HouseholdMoney(
        lines=lines,
        total=due,
        paid=paid,
        outstanding=money((ZERO if estimate else due) - paid),
        rule=rule,
        estimate=estimate,
        received=received_from(session, household.id),
    )


def received_from(session: Session, household_id: int) -> Decimal:
    """What the household paid in (receipts, not reversed)."""
    received = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Payment.amount), 0)).where(
            Payment.household_id == household_id,
            Payment.kind.in_(INCOMING_KINDS),
            Payment.reversed_at.is_(None),
        )
    )
    return money(received or 0)


@dataclass
class AllowanceStatement:
    """The temporary resettlement allowance (过渡费) of a swap household as of a day."""

    lines: list[Line]  # the allowance lines with their formulas (past the period: tiered)
    start: date  # the day the household vacated: the allowance runs from here
    until: date  # the handover, or the day of the statement while the transition runs
    months: int
    accrued: Decimal
    paid: Decimal  # temporary-allowance payments, reversals left out
    due: Decimal  # accrued and not paid yet (never below zero)
    running: bool  # not handed over yet: the allowance goes on accruing
    months_paid: int = 0  # whole months, from the first, that the payments cover


def allowance_statement(
    session: Session, household: Household, *, as_of: date | None = None
) -> AllowanceStatement | None:
    """The household's allowance accrued, paid and due as of a day, with its formula lines;
    None when it gets none (not a swap household, not vacated yet, or the project has no
    rules)."""
    as_of = as_of or clock.today()
    facts = facts_of(household)
    if not facts.swap or facts.vacated_on is None or facts.transit_flat:
        return None  # before looking for the rules
    rule = household.rule or current_rule(session, household.project_id, as_of)
    if rule is None:
        return None
    terms = terms_of(rule, household.project)
    figures = allowance_figures(facts, terms, allowance_paid(session, household.id), as_of=as_of)
    lines = [
        line for line in compute(facts, terms, until=as_of) if line.key.startswith("allowance")
    ]
    return replace(figures, lines=lines) if figures is not None else None


def allowance_paid_query(household_id: Any) -> sa.Select:
    """The sum of the temporary allowance paid to a household, reversals left out: a select
    of one value for a household id (a bound parameter, or a column to correlate with)."""
    return sa.select(sa.func.coalesce(sa.func.sum(Payment.amount), 0)).where(
        Payment.household_id == household_id,
        Payment.kind == PaymentKind.TEMPORARY_ALLOWANCE,
        Payment.reversed_at.is_(None),
    )


_ALLOWANCE_PAID = allowance_paid_query(sa.bindparam("household_id"))


def allowance_paid(session: Session | sa.Connection, household_id: int) -> Decimal:
    """The temporary allowance paid to a household, reversals left out."""
    paid = core_connection(session).scalar(_ALLOWANCE_PAID, {"household_id": household_id})
    return money(paid or 0)


def allowance_figures(
    facts: Facts, terms: Terms, paid: Decimal, *, as_of: date
) -> AllowanceStatement | None:
    """The allowance figures from plain facts, terms and what was paid (no formula lines):
    accrued to `as_of` (or the handover), due, and the whole months the payments cover."""
    vacated_on = facts.vacated_on
    if not facts.swap or vacated_on is None or facts.transit_flat:
        return None
    end = facts.handed_over_on or as_of
    accrued = money(
        sum(
            (v for k, v in amounts(facts, terms, until=as_of).items() if k.startswith("allowance")),
            ZERO,
        )
    )
    monthly = [
        facts.legal_area * terms.temporary_per_m2_month * factor
        for _key, first, last, factor in allowance_parts(vacated_on, end, terms)
        for _month in range(first, last + 1)
    ]
    covered, months_paid = ZERO, 0
    for amount in monthly:
        covered += amount
        if money(covered) > paid:
            break
        months_paid += 1
    return AllowanceStatement(
        months_paid=months_paid,
        lines=[],
        start=vacated_on,
        until=end,
        months=months_between(vacated_on, end, terms.started_month_counts),
        accrued=accrued,
        paid=paid,
        due=max(money(accrued - paid), ZERO),
        running=facts.handed_over_on is None,
    )


def reverse_payment(session: Session, payment: Payment, *, reason: str, user: User) -> Payment:
    """Reverse a payment (never delete it): it stops counting, with who, when and why."""
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation(_("Give a reason for the reversal."), "reason")
    # The row as it is now, locked until the commit (PostgreSQL; SQLite queues the whole write):
    # a reversal sent twice at once reverses once, and the second is told.
    session.refresh(payment, with_for_update=True)
    if payment.reversed_at is not None:
        raise RuleViolation(_("This payment is reversed already."), "reason")
    payment.reversed_at = utcnow()
    payment.reversed_by_id = user.id
    payment.reversal_reason = reason
    session.flush()
    return payment


# --- free lines ----------------------------------------------------------------------------

_ADJUSTMENT_LABEL = HouseholdAdjustment.__table__.c.label.type.length


def add_adjustment(
    session: Session,
    household: Household,
    *,
    label: str | None,
    amount: Decimal,
    reason: str,
    user: User | None,
) -> HouseholdAdjustment:
    """A line the office decided for this household (其他补偿 / 其他扣减): a signed amount, never
    zero, with its reason; the label defaults to "other compensation" or "other deduction"."""
    try:
        amount = money(amount)
    except (InvalidOperation, TypeError, ValueError):
        raise RuleViolation(_("Enter a number."), "amount") from None
    if amount == 0:
        raise RuleViolation(
            _("Enter the amount: positive to pay the household, negative to deduct."), "amount"
        )
    if abs(amount) >= 10**12:
        raise RuleViolation(_("This number is too large."), "amount")
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation(_("Give the reason the office decided this line."), "reason")
    label = (label or "").strip() or (
        chinese("Other compensation") if amount > 0 else chinese("Other deduction")
    )
    if len(label) > _ADJUSTMENT_LABEL:
        raise RuleViolation(_("At most 60 characters."), "label")
    if household.stage == Stage.CLOSED:
        raise RuleViolation(_("This case is closed."), "label")
    adjustment = HouseholdAdjustment(
        label=label, amount=amount, reason=reason, added_by_id=user.id if user else None
    )
    household.adjustments.append(adjustment)
    session.flush()
    _record_line(session, "line_added", household, adjustment, added=True)
    return adjustment


def _record_line(
    session: Session, action: str, household: Household, line: HouseholdAdjustment, *, added: bool
) -> None:
    """The free line on the household's own history too (its row is audited by the listener)."""
    changes = {
        name: [None, audit_value(getattr(line, name))]
        if added
        else [audit_value(getattr(line, name)), None]
        for name in ("label", "amount", "reason")
    }
    record_event(session, action, "Household", household.id, changes)


def remove_adjustment(session: Session, adjustment: HouseholdAdjustment) -> None:
    """Take a free line off the household (the audit trail keeps what it was and who removed
    it)."""
    if adjustment.household.stage == Stage.CLOSED:
        raise RuleViolation(_("This case is closed."), "label")
    household = adjustment.household
    household.adjustments.remove(adjustment)
    session.delete(adjustment)  # deleted by name, so the audit trail sees it (not an orphan)
    session.flush()
    _record_line(session, "line_removed", household, adjustment, added=False)


# --- sources and the fund plan ------------------------------------------------------------


def add_fund_source(
    session: Session,
    project: ExpropriationProject,
    *,
    kind: SourceKind,
    name: str,
    amount: Decimal,
    available_on: date,
    note: str | None = None,
) -> FundSource:
    """Record money that becomes available to the project on a date."""
    try:
        amount = money(amount)
    except (InvalidOperation, TypeError, ValueError):
        raise RuleViolation(_("Enter a number."), "amount") from None
    if amount <= 0:
        raise RuleViolation(_("The amount must be more than zero."), "amount")
    name = (name or "").strip()
    if not name:
        raise RuleViolation(_("Name the source, such as 2026年第一批专项债."), "name")
    source = FundSource(
        project_id=project.id,
        kind=SourceKind(kind),
        name=name,
        amount=amount,
        available_on=available_on,
        note=(note or "").strip() or None,
    )
    session.add(source)
    session.flush()
    return source


@dataclass
class MonthRow:
    month: str
    planned: Decimal = ZERO
    overrun: Decimal = ZERO  # of which: allowance past the transition period
    paid: Decimal = ZERO
    available: Decimal = ZERO
    balance: Decimal = ZERO


@dataclass
class FundPlan:
    months: list[MonthRow] = field(default_factory=list)
    first_shortfall_month: str | None = None
    households: int = 0
    planned_total: Decimal = ZERO
    paid_total: Decimal = ZERO
    available_total: Decimal = ZERO
    # The estate's handover date the months are planned with (forecast, else deadline).
    handover_on: date | None = None
    handover_provisional: bool = False


def _plan_dates(session: Session, project: ExpropriationProject) -> dict[str, Any]:
    """Planned dates the plans give (from the plan that sets each, `plans.deadlines`): signing
    and vacating deadlines from the project's plan, the forecast handover from the estate's
    (and whether that handover date is provisional)."""
    rows = session.execute(
        sa.select(
            PlanNode.stage,
            PlanNode.planned_finish,
            PlanNode.forecast_finish,
            PlanNode.provisional,
            PlanNode.forecast_provisional,
        )
        .join(Plan, Plan.id == PlanNode.plan_id)
        .where(
            Plan.is_template.is_(False),
            sets_deadline_sql(project.id, project.site_id),
            PlanNode.stage.in_([Stage.SIGNED, Stage.VACATED, Stage.HANDED_OVER]),
        )
    ).all()
    out: dict[str, Any] = {
        "signed": None,
        "vacated": None,
        "handed_over": None,
        "handed_over_provisional": False,
    }
    for stage, planned, forecast, provisional, forecast_provisional in rows:
        if stage == Stage.HANDED_OVER:
            out["handed_over"] = forecast or planned
            out["handed_over_provisional"] = forecast_provisional if forecast else provisional
        else:
            out[stage.value] = planned
    return out


def _site_share(session: Session, project: ExpropriationProject) -> Decimal:
    """This project's share of its estate's costs: its swap households over all the estate's."""
    if project.site_id is None:
        return ZERO
    counts = dict(
        session.execute(
            sa.select(Household.project_id, sa.func.count())
            .join(ExpropriationProject, ExpropriationProject.id == Household.project_id)
            .where(
                ExpropriationProject.site_id == project.site_id,
                Household.compensation_mode.in_(SWAP),
            )
            .group_by(Household.project_id)
        ).all()
    )
    everyone = sum(counts.values())
    return Decimal(counts.get(project.id, 0)) / everyone if everyone else ZERO


def fund_plan(
    session: Session, project: ExpropriationProject, *, today: date | None = None
) -> FundPlan:
    """Per month: planned outflow, paid, available, the running balance and the first month
    it goes negative (资金缺口).

    Planned outflows, from the households and the plans:
    - compensation (house value and the other items of the house, free lines, first moving
      allowance, signing bonus or reward, less the new flat's price when that leaves money to
      pay) due `compensation_due_days` after signing (the actual date, or
      the plan's signing deadline; before selection the flat is taken at the entitled area);
    - the moving bonus in the month of vacating (actual, or the plan's deadline);
    - the second moving allowance at handover (actual, or the estate's forecast);
    - the temporary allowance every month from vacating (actual, or the plan's deadline) to
      handover, overdue months with their multiplier: a transition the scheduler forecasts to
      overrun costs extra in the months it will;
    - plan-node payments at the node's finish (an estate's nodes in proportion to the
      project's share of the estate's swap households).
    Balance = sources available so far - what went out so far, counting paid money for past
    months, the larger of paid and planned this month, and planned money after this month.
    """
    today = today or clock.today()
    rule = current_rule(session, project.id, today)
    buckets: dict[int, MonthRow] = {}

    def bucket(month: int) -> MonthRow:
        if month not in buckets:
            buckets[month] = MonthRow(month_label(month))
        return buckets[month]

    planned_dates = _plan_dates(session, project)
    households = 0
    if rule is not None:
        households = _plan_households(session, project, rule, planned_dates, bucket, today)
    share = _site_share(session, project)
    nodes = session.execute(
        sa.select(
            PlanNode.payment_amount,
            PlanNode.actual_finish,
            PlanNode.forecast_finish,
            PlanNode.planned_finish,
            Plan.project_id,
        )
        .join(Plan, Plan.id == PlanNode.plan_id)
        .where(
            PlanNode.payment_amount.is_not(None),
            sa.or_(
                Plan.project_id == project.id,
                sa.and_(Plan.site_id == project.site_id, Plan.site_id.is_not(None)),
            ),
        )
    ).all()
    for amount, actual, forecast, planned, owner in nodes:
        when = actual or forecast or planned
        if when is None:
            continue
        part = amount if owner == project.id else money(amount * share)
        bucket(month_index(when)).planned += part
    paid_rows = session.execute(
        sa.select(Payment.paid_on, Payment.signed_amount, Payment.household_id, Plan.project_id)
        .outerjoin(Household, Household.id == Payment.household_id)
        .outerjoin(PlanNode, PlanNode.id == Payment.plan_node_id)
        .outerjoin(Plan, Plan.id == PlanNode.plan_id)
        .where(
            Payment.reversed_at.is_(None),
            sa.or_(
                Household.project_id == project.id,
                Plan.project_id == project.id,
                sa.and_(Plan.site_id == project.site_id, Plan.site_id.is_not(None)),
            ),
        )
    ).all()
    for paid_on, amount, household_id, owner in paid_rows:
        part = amount if household_id is not None or owner == project.id else money(amount * share)
        bucket(month_index(paid_on)).paid += part
    for source in session.scalars(sa.select(FundSource).where(FundSource.project_id == project.id)):
        bucket(month_index(source.available_on)).available += source.amount
    plan = FundPlan(
        households=households,
        handover_on=planned_dates["handed_over"],
        handover_provisional=planned_dates["handed_over_provisional"],
    )
    if not buckets:
        return plan
    this_month = month_index(today)
    balance = ZERO
    for month in range(min(buckets), max(buckets) + 1):
        row = bucket(month)
        row.planned, row.paid, row.overrun = money(row.planned), money(row.paid), money(row.overrun)
        if month < this_month:
            out = row.paid
        elif month == this_month:
            out = max(row.paid, row.planned)
        else:
            out = row.planned
        balance = money(balance + row.available - out)
        row.balance = balance
        if balance < 0 and plan.first_shortfall_month is None:
            plan.first_shortfall_month = row.month
        plan.months.append(row)
        plan.planned_total += row.planned
        plan.paid_total += row.paid
        plan.available_total += row.available
    return plan


def _plan_households(  # noqa: ANN001
    session, project, rule, planned_dates, bucket, today
) -> int:
    """Add every household's planned payments to the month buckets; returns the count."""
    terms = terms_of(rule, project)
    rules = {rule.id: terms}
    steps: dict[int, dict[Stage, date]] = defaultdict(dict)
    for household_id, stage, actual in session.execute(
        sa.select(CaseStep.household_id, CaseStep.stage, CaseStep.actual_date)
        .join(Household, Household.id == CaseStep.household_id)
        .where(
            Household.project_id == project.id,
            CaseStep.actual_date.is_not(None),
            CaseStep.stage.in_([Stage.SIGNED, Stage.VACATED, Stage.HANDED_OVER]),
        )
    ):
        steps[household_id][stage] = actual
    flats = dict(
        session.execute(
            sa.select(Unit.household_id, sa.func.sum(Unit.area))
            .join(Household, Household.id == Unit.household_id)
            .where(Household.project_id == project.id)
            .group_by(Unit.household_id)
        ).all()
    )
    fixtures: dict[int, list[tuple[str, Decimal]]] = defaultdict(list)
    for household_id, name, quantity in session.execute(
        sa.select(HouseholdFixture.household_id, HouseholdFixture.name, HouseholdFixture.quantity)
        .join(Household, Household.id == HouseholdFixture.household_id)
        .where(Household.project_id == project.id)
        .order_by(HouseholdFixture.id)
    ):
        fixtures[household_id].append((name, quantity))
    adjustments: dict[int, list[Any]] = defaultdict(list)
    for adjustment in session.execute(
        sa.select(
            HouseholdAdjustment.household_id,
            HouseholdAdjustment.id,
            HouseholdAdjustment.label,
            HouseholdAdjustment.amount,
            HouseholdAdjustment.reason,
        )
        .join(Household, Household.id == HouseholdAdjustment.household_id)
        .where(Household.project_id == project.id)
        .order_by(HouseholdAdjustment.id)
    ):
        adjustments[adjustment.household_id].append(adjustment)
    rows = session.execute(
        sa.select(Household.id, *FACT_COLUMNS, *ITEM_COLUMNS, Household.rule_id).where(
            Household.project_id == project.id
        )
    ).all()
    due_days = {rule.id: rule.compensation_due_days}
    count = 0
    for row in rows:
        hid, mode, area, rule_id = row.id, row.compensation_mode, row.legal_area, row.rule_id
        count += 1
        if rule_id is not None and rule_id not in rules:
            signed_rule = session.get(CompensationRule, rule_id)
            rules[rule_id] = terms_of(signed_rule, project)
            due_days[rule_id] = signed_rule.compensation_due_days
        household_terms = rules.get(rule_id or rule.id, terms)
        swap = mode in SWAP
        own = steps.get(hid, {})
        signed = own.get(Stage.SIGNED) or planned_dates["signed"]
        vacated = own.get(Stage.VACATED) or (planned_dates["vacated"] if swap else None)
        handover = own.get(Stage.HANDED_OVER) or planned_dates["handed_over"]
        if mode is None:  # not signed yet: plan the money compensation the household is owed
            swap = False
        facts = with_items(
            Facts(
                swap=swap,
                legal_area=area,
                appraisal_unit_price=row.appraisal_unit_price,
                appraisal_value=row.appraisal_value,
                entitled_area=row.entitled_area,
                flat_area=flats.get(hid) or (row.entitled_area if swap else None),
                signed_on=signed,
                vacated_on=vacated,
                handed_over_on=None,
                transit_flat=bool(row.transit_flat),
            ),
            row,
            fixtures.get(hid, []),
            adjustments.get(hid, []),
        )
        lump = amounts(facts, household_terms, until=today)
        compensation = money(
            sum(
                (
                    v
                    for k, v in lump.items()
                    if not k.startswith("allowance") and k != "moving_bonus"
                ),
                ZERO,
            )
        )
        if "moving_bonus" in lump and vacated is not None:  # earned by vacating
            bucket(month_index(vacated)).planned += lump["moving_bonus"]
        if signed is not None and compensation > 0:
            when = signed + timedelta(
                days=due_days.get(rule_id or rule.id, rule.compensation_due_days)
            )
            bucket(month_index(when)).planned += compensation
        if not swap or vacated is None or handover is None:
            continue
        second_moving = money(area * household_terms.moving_per_m2)
        bucket(month_index(handover)).planned += second_moving
        if facts.transit_flat:  # lent a transit flat: no temporary allowance
            continue
        per_month = area * household_terms.temporary_per_m2_month
        start = month_index(vacated)
        for _key, first, last, factor in allowance_parts(vacated, handover, household_terms):
            amount = money(per_month * factor)
            extra = money(per_month * (factor - 1))
            for n in range(first, last + 1):
                row = bucket(start + n - 1)
                row.planned += amount
                row.overrun += extra
    return count


def project_totals(session: Session, project: ExpropriationProject, *, as_of: date) -> Decimal:
    """The sum of every household's total (for reconciliation)."""
    households = session.scalars(
        sa.select(Household).where(Household.project_id == project.id).order_by(Household.id)
    )
    grand = ZERO
    for household in households:
        result = household_money(session, household, as_of=as_of)
        if result is not None:
            grand += result.total
    return money(grand)
