"""The household rules: registration, edits with optimistic locking, stages with their guards."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, object_session

from resettle import clock
from resettle.agreements.models import Agreement
from resettle.audit.models import AuditEvent
from resettle.audit.services import record_event
from resettle.auth.models import User
from resettle.db import money, utcnow
from resettle.errors import RuleViolation
from resettle.funds.models import INCOMING_KINDS, Payment, PaymentKind
from resettle.funds.services import current_rule, due_before_moving, household_money
from resettle.households import stages
from resettle.households.models import (
    CaseStep,
    CompensationMode,
    Household,
    HouseholdFixture,
    HouseholdMember,
    Stage,
)
from resettle.i18n import STAGE_LABELS, format_money
from resettle.idnumbers import check_id_number
from resettle.projects.models import ExpropriationProject
from resettle.sites.models import UnitStatus
from resettle.translate import gettext as _


@dataclass
class MemberData:
    name: str
    relation: str
    id_number: str | None = None


@dataclass
class HouseholdData:
    """The editable fields of a household, as plain data (from a form, an import or a test)."""

    head_name: str
    head_id_number: str
    house_address: str
    legal_area: Decimal
    phone: str | None = None
    unregistered_area: Decimal = Decimal("0")
    house_use: str = "住宅"
    appraisal_unit_price: Decimal | None = None
    appraisal_value: Decimal | None = None
    decoration_value: Decimal | None = None
    business_area: Decimal | None = None
    lawful_unregistered_area: Decimal = Decimal("0")
    hardship: str | None = None
    compensation_mode: CompensationMode | None = None
    entitled_area: Decimal | None = None
    selection_order: int | None = None
    caseworker_id: int | None = None
    note: str | None = None
    members: list[MemberData] = field(default_factory=list)
    # How many of each price-list item (附属物, 设施移装) the household has, by item name; zero
    # or blank removes an item. None: leave the counts as they are.
    fixtures: dict[str, Decimal | None] | None = None
    # Set when the caseworker has seen and confirmed the warnings (an ID number's region code
    # the national table does not know); `_clean` fills `warnings`.
    warnings_confirmed: bool = False
    warnings: list[str] = field(default_factory=list)


class UnconfirmedWarning(RuleViolation):
    """The data is valid but holds something the caseworker must confirm before it is saved."""


class ConcurrentEditError(RuleViolation):
    """Someone else saved the record since it was loaded; `changes` says who changed what."""

    def __init__(self, message: str, changes: list[AuditEvent]) -> None:
        super().__init__(message, None)
        self.changes = changes


EDITABLE_FIELDS = (
    "head_name",
    "head_id_number",
    "phone",
    "house_address",
    "legal_area",
    "unregistered_area",
    "house_use",
    "appraisal_unit_price",
    "appraisal_value",
    "decoration_value",
    "business_area",
    "lawful_unregistered_area",
    "hardship",
    "compensation_mode",
    "entitled_area",
    "selection_order",
    "caseworker_id",
    "note",
)


def stage_label(stage: Stage) -> str:
    return str(STAGE_LABELS[stage])


_PHONE = re.compile(r"\+?[0-9 ()\-转]+")


def _phone_number(text: str | None) -> str | None:
    """A phone number as written (13800138000, 0571-8765 4321, 0571-87654321转8001): digits with
    spaces, hyphens, brackets, a leading + or 转 for an extension; 7 to 20 digits."""
    phone = unicodedata.normalize("NFKC", text or "").strip()
    if not phone:
        return None
    digits = sum(c.isdigit() for c in phone)
    if not _PHONE.fullmatch(phone) or not 7 <= digits <= 20:
        raise RuleViolation(
            _("Enter a phone number in digits, such as 13800138000 or 0571-87654321."), "phone"
        )
    return phone


def _clean(data: HouseholdData) -> HouseholdData:
    """Normalise and check the shape of the data (ID check digit, non-negative amounts)."""
    data.head_name = (data.head_name or "").strip()
    if not data.head_name:
        raise RuleViolation(_("The name of the head of household is required."), "head_name")
    warnings: list[str] = []
    checked = check_id_number(data.head_id_number, "head_id_number")
    data.head_id_number = checked.number
    if checked.warning:
        warnings.append(checked.warning)
    data.house_address = (data.house_address or "").strip()
    if not data.house_address:
        raise RuleViolation(_("The address of the house is required."), "house_address")
    data.phone = _phone_number(data.phone)
    data.note = (data.note or "").strip() or None
    for name in (
        "legal_area",
        "unregistered_area",
        "appraisal_unit_price",
        "appraisal_value",
        "decoration_value",
        "business_area",
        "lawful_unregistered_area",
        "entitled_area",
    ):
        value = getattr(data, name)
        if value is None:
            continue
        try:
            value = money(value)
        except (InvalidOperation, ValueError, TypeError):
            raise RuleViolation(_("Enter a number."), name) from None
        if value < 0:
            raise RuleViolation(_("This amount cannot be negative."), name)
        setattr(data, name, value)
    data.lawful_unregistered_area = data.lawful_unregistered_area or Decimal("0.00")
    if data.lawful_unregistered_area > (data.unregistered_area or 0):
        raise RuleViolation(
            _("The area found lawful cannot be larger than the unregistered area."),
            "lawful_unregistered_area",
        )
    data.hardship = (data.hardship or "").strip() or None
    if data.hardship is not None and len(data.hardship) > 20:
        raise RuleViolation(_("At most 20 characters."), "hardship")
    if data.fixtures is not None:
        counts: dict[str, Decimal] = {}
        for name, quantity in data.fixtures.items():
            if quantity is None or quantity == 0:
                continue
            try:
                quantity = money(quantity)
            except (InvalidOperation, ValueError, TypeError):
                raise RuleViolation(_("Enter a number."), "fixtures") from None
            if quantity < 0:
                raise RuleViolation(_("This amount cannot be negative."), "fixtures")
            counts[name] = quantity
        data.fixtures = counts
    if data.selection_order is not None and data.selection_order <= 0:
        raise RuleViolation(_("The selection order number starts at 1."), "selection_order")
    for member in data.members:
        member.name = (member.name or "").strip()
        member.relation = (member.relation or "").strip()
        if not member.name or not member.relation:
            raise RuleViolation(_("Each member needs a name and a relation."), "members")
        if member.id_number:
            checked = check_id_number(member.id_number, "members")
            member.id_number = checked.number
            if checked.warning:
                warnings.append(checked.warning)
        else:
            member.id_number = None
    data.warnings = warnings
    if warnings and not data.warnings_confirmed:
        raise UnconfirmedWarning(
            " ".join(warnings)
            + " "
            + _("If the number is right, tick the confirmation below and save again."),
            "warnings_confirmed",
        )
    return data


def _record_confirmed_warnings(session: Session, household: Household, data: HouseholdData) -> None:
    """Write down who confirmed which warning (the audit trail of a judgement, not a change)."""
    if data.warnings:
        record_event(
            session,
            "confirm_warning",
            "Household",
            household.id,
            {"warnings": [None, data.warnings]},
        )


def _check_unique(
    session: Session, project_id: int, data: HouseholdData, household_id: int | None
) -> None:
    same_id = session.scalar(
        sa.select(Household.case_number).where(
            Household.project_id == project_id,
            Household.head_id_number == data.head_id_number,
            Household.id != (household_id or 0),
        )
    )
    if same_id:
        raise RuleViolation(
            _("Household %(case)s of this project has the same ID number.", case=same_id),
            "head_id_number",
        )
    if data.selection_order is not None:
        same_order = session.scalar(
            sa.select(Household.case_number).where(
                Household.project_id == project_id,
                Household.selection_order == data.selection_order,
                Household.id != (household_id or 0),
            )
        )
        if same_order:
            raise RuleViolation(
                _("Household %(case)s already has this selection order number.", case=same_order),
                "selection_order",
            )


def next_case_number(session: Session, project: ExpropriationProject) -> str:
    """The next free case number of the project: CODE-0001, CODE-0002, …"""
    prefix = f"{project.code}-"
    numbers = session.scalars(
        sa.select(Household.case_number).where(Household.case_number.startswith(prefix))
    )
    highest = max((int(n[len(prefix) :]) for n in numbers if n[len(prefix) :].isdigit()), default=0)
    return f"{prefix}{highest + 1:04d}"


def check_step_date(actual: date, previous: date | None, today: date) -> None:
    if actual > today:
        raise RuleViolation(_("The date cannot be in the future."), "actual_date")
    if previous is not None and actual < previous:
        raise RuleViolation(
            _("The date cannot be before the previous step (%(date)s).", date=previous.isoformat()),
            "actual_date",
        )


def register_household(
    session: Session,
    project: ExpropriationProject,
    data: HouseholdData,
    *,
    survey_date: date,
    operator: User | None,
    case_number: str | None = None,
    today: date | None = None,
) -> Household:
    """Register a surveyed household (调查登记) with its members."""
    data = _clean(data)
    check_step_date(survey_date, None, today or clock.today())
    _check_unique(session, project.id, data, None)
    _check_fixtures(session, project.id, None, data)
    case_number = (case_number or "").strip() or next_case_number(session, project)
    if session.scalar(sa.select(Household.id).where(Household.case_number == case_number)):
        raise RuleViolation(
            _("The case number %(case)s is taken.", case=case_number), "case_number"
        )
    household = Household(project=project, case_number=case_number, stage=Stage.SURVEYED)
    _apply(household, data)
    household.steps.append(
        CaseStep(
            stage=Stage.SURVEYED,
            actual_date=survey_date,
            operator_id=operator.id if operator else None,
            recorded_at=utcnow(),
        )
    )
    session.add(household)
    session.flush()
    _record_confirmed_warnings(session, household, data)
    return household


def _check_fixtures(
    session: Session, project_id: int, household: Household | None, data: HouseholdData
) -> None:
    """A fixture counted is in the price list the household is priced by (the version it signed
    under, else the one in force), or was counted before (an item of an earlier list)."""
    if not data.fixtures:
        return
    rule = (household.rule if household is not None else None) or current_rule(
        session, project_id, clock.today()
    )
    known = {i.name for i in rule.price_items} if rule is not None else set()
    if household is not None:
        known |= {f.name for f in household.fixtures}
    for name in data.fixtures:
        if name not in known:
            raise RuleViolation(
                _("%(name)s is not in the price list of the project's rules.", name=name),
                "fixtures",
            )


def _apply(household: Household, data: HouseholdData) -> None:
    for name in EDITABLE_FIELDS:
        setattr(household, name, getattr(data, name))
    if data.fixtures is not None:
        wanted = dict(data.fixtures)
        for fixture in list(household.fixtures):
            if fixture.name not in wanted:
                household.fixtures.remove(fixture)
                session = object_session(fixture)
                if session is not None and fixture.id is not None:
                    session.delete(fixture)  # by name, so the audit trail sees it
            elif fixture.quantity != wanted[fixture.name]:
                fixture.quantity = wanted.pop(fixture.name)
            else:
                wanted.pop(fixture.name)
        household.fixtures.extend(HouseholdFixture(name=n, quantity=q) for n, q in wanted.items())
    existing = [(m.name, m.relation, m.id_number) for m in household.members]
    wanted = [(m.name, m.relation, m.id_number) for m in data.members]
    if existing != wanted:
        household.members.clear()
        household.members.extend(
            HouseholdMember(name=m.name, relation=m.relation, id_number=m.id_number)
            for m in data.members
        )


def changes_since(session: Session, household: Household, loaded_at: datetime) -> list[AuditEvent]:
    """Audit events on this household and its members after `loaded_at`, oldest first."""
    member_ids = [m.id for m in household.members if m.id]
    condition = sa.and_(AuditEvent.entity_type == "Household", AuditEvent.entity_id == household.id)
    if member_ids:
        condition = sa.or_(
            condition,
            sa.and_(
                AuditEvent.entity_type == "HouseholdMember", AuditEvent.entity_id.in_(member_ids)
            ),
        )
    return list(
        session.scalars(
            sa.select(AuditEvent)
            .where(condition, AuditEvent.occurred_at > loaded_at)
            .order_by(AuditEvent.id)
        )
    )


def update_household(
    session: Session,
    household: Household,
    data: HouseholdData,
    *,
    expected_version: int,
    loaded_at: datetime,
) -> Household:
    """Save an edit unless someone else saved the household since it was loaded."""
    if household.version_id != expected_version:
        raise concurrent_edit_error(session, household, loaded_at)
    data = _clean(data)
    _check_unique(session, household.project_id, data, household.id)
    _check_fixtures(session, household.project_id, household, data)
    if data.compensation_mode is None and _reached(household, Stage.SIGNED):
        raise RuleViolation(
            _("A signed household must keep a compensation mode."), "compensation_mode"
        )
    if data.compensation_mode != household.compensation_mode:
        signed_under = _agreement_number(session, household)
        if signed_under is not None:
            raise RuleViolation(
                _(
                    "The household signed agreement %(number)s for this compensation mode; "
                    "the mode cannot change under it.",
                    number=signed_under,
                ),
                "compensation_mode",
            )
    _apply(household, data)
    session.flush()
    _record_confirmed_warnings(session, household, data)
    return household


def concurrent_edit_error(
    session: Session, household: Household, loaded_at: datetime
) -> ConcurrentEditError:
    events = changes_since(session, household, loaded_at)
    who = "、".join(dict.fromkeys(e.actor for e in events)) or _("another user")
    return ConcurrentEditError(
        _(
            "%(who)s changed this household after you opened it. Nothing was saved: check the "
            "current values below and enter your change again.",
            who=who,
        ),
        events,
    )


def _reached(household: Household, stage: Stage) -> bool:
    return stages.reached(household.stage, stage)


def path_for(household: Household) -> tuple[Stage, ...]:
    """The stages this household goes through (`households.stages.path`)."""
    return stages.path(household.compensation_mode)


def next_stage(household: Household) -> Stage | None:
    """The stage to record next, or None when the case is closed."""
    return stages.next_stage(household.compensation_mode, household.stage)


def step_for(household: Household, stage: Stage) -> CaseStep | None:
    return next((s for s in household.steps if s.stage == stage), None)


def compensation_paid(session: Session, household: Household, by: date | None = None) -> bool:
    """True when a compensation payment is recorded (and not reversed), paid on or before `by`."""
    query = sa.select(Payment.id).where(
        Payment.household_id == household.id,
        Payment.kind == PaymentKind.COMPENSATION,
        Payment.reversed_at.is_(None),
    )
    if by is not None:
        query = query.where(Payment.paid_on <= by)
    return session.scalar(query.limit(1)) is not None


def _compensated_in_full(session: Session, household: Household, actual: date) -> None:
    """先补偿、后搬迁: everything due before moving out is paid by the vacating date (a token
    payment is not compensation). Without compensation rules the amount cannot be computed, and
    a recorded compensation payment is what can be checked."""
    owed = due_before_moving(session, household, by=actual)
    if owed is None:
        if not compensation_paid(session, household, by=actual):
            raise RuleViolation(
                _(
                    "Compensate first, move later: no compensation payment is recorded on or "
                    "before this date, so the household cannot be recorded as vacated."
                ),
                "stage",
            )
        return
    if owed.outstanding > 0:
        raise RuleViolation(
            _(
                "Compensate first, move later: %(due)s yuan are due before moving out "
                "(the compensation for the house, moving allowance, signing bonus) and %(paid)s yuan were paid by "
                "%(day)s; %(left)s yuan are still to be paid before the household can be "
                "recorded as vacated.",
                due=format_money(owed.due),
                paid=format_money(owed.paid),
                day=actual.isoformat(),
                left=format_money(owed.outstanding),
            ),
            "stage",
        )


def _guard(session: Session, household: Household, stage: Stage, actual: date) -> None:
    """Refuse a step whose preconditions (DOMAIN.md) do not hold, saying what is missing."""
    expected = next_stage(household)
    if stage != expected:
        if _reached(household, stage) and step_for(household, stage) is not None:
            raise RuleViolation(
                _("%(stage)s is recorded already.", stage=stage_label(stage)), "stage"
            )
        if expected is None:
            raise RuleViolation(_("This case is closed."), "stage")
        if not stages.on_path(household.compensation_mode, stage):
            raise RuleViolation(
                _("A household compensated in money only does not select or receive a flat."),
                "stage",
            )
        raise RuleViolation(
            _(
                "%(stage)s cannot be recorded yet: %(missing)s comes first.",
                stage=stage_label(stage),
                missing=stage_label(expected),
            ),
            "stage",
        )
    if stage == Stage.APPRAISED and (
        household.appraisal_unit_price is None or household.appraisal_value is None
    ):
        raise RuleViolation(
            _("Enter the appraised unit price and value before recording the appraisal."),
            "stage",
        )
    if stage == Stage.SIGNED and household.compensation_mode is None:
        raise RuleViolation(
            _("Choose the compensation mode (money or property swap) before signing."), "stage"
        )
    if stage == Stage.VACATED:
        _compensated_in_full(session, household, actual)
    if stage == Stage.SELECTED and not household.units:
        raise RuleViolation(
            _("Allocate a flat to this household (in selection order) to record the selection."),
            "stage",
        )
    if stage == Stage.HANDED_OVER:
        if not household.units:
            raise RuleViolation(_("No flat is allocated to this household."), "stage")
        unfinished = [u.label for u in household.units if not u.building.complete]
        if unfinished:
            raise RuleViolation(
                _(
                    "%(flats)s is not complete yet and cannot be handed over.",
                    flats="、".join(unfinished),
                ),
                "stage",
            )


def record_step(
    session: Session,
    household: Household,
    stage: Stage,
    actual_date: date,
    *,
    operator: User | None,
    note: str | None = None,
    today: date | None = None,
) -> CaseStep:
    """Record that the household reached `stage` on `actual_date`, if every guard allows it."""
    stage = Stage(stage)
    _guard(session, household, stage, actual_date)
    previous = step_for(household, household.stage)
    check_step_date(actual_date, previous.actual_date if previous else None, today or clock.today())
    step = step_for(household, stage)
    if step is None:
        step = CaseStep(stage=stage)
        household.steps.append(step)
    step.actual_date = actual_date
    step.operator_id = operator.id if operator else None
    step.note = (note or "").strip() or None
    step.recorded_at = utcnow()
    household.stage = stage
    if stage == Stage.SIGNED:
        from resettle.funds.services import assign_rule_at_signing

        assign_rule_at_signing(session, household, actual_date)
    if stage == Stage.HANDED_OVER:
        for unit in household.units:
            unit.status = UnitStatus.HANDED_OVER
    session.flush()
    return step


def _agreement_number(session: Session, household: Household) -> str | None:
    """The number of the household's agreement, when it signed one in the system."""
    return session.scalar(
        sa.select(Agreement.number)
        .where(Agreement.household_id == household.id, Agreement.amends_id.is_(None))
        .limit(1)
    )


def undo_last_step(
    session: Session,
    household: Household,
    *,
    reason: str,
    user: User,
    shown: str | None = None,
) -> Stage:
    """Take back the latest recorded step (a supervisor's correction, with a reason); with
    `shown`, only if that is still the latest step (the form sent twice undoes one step)."""
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation(_("Give a reason for undoing the step."), "reason")
    if shown is not None and shown != household.stage.value:
        raise RuleViolation(
            _(
                "The case has changed since the page was opened (the form was sent twice, or "
                "someone else recorded or undid a step); nothing was undone."
            ),
            "reason",
        )
    if household.stage == Stage.SURVEYED:
        raise RuleViolation(
            _("The survey is the first step and cannot be undone; correct its data instead."),
            "reason",
        )
    undone = household.stage
    if undone == Stage.SIGNED:
        signed_under = _agreement_number(session, household)
        if signed_under is not None:
            raise RuleViolation(
                _(
                    "The household signed agreement %(number)s; the signing stays recorded "
                    "with it. A change is a supplementary agreement.",
                    number=signed_under,
                ),
                "reason",
            )
    step = step_for(household, undone)
    if step is not None:
        if step.deadline is None:
            household.steps.remove(step)
        else:  # keep the deadline the plan set
            step.actual_date = None
            step.operator_id = None
            step.recorded_at = None
    if undone == Stage.SELECTED:
        for unit in list(household.units):
            unit.household = None
            unit.status = UnitStatus.AVAILABLE
    if undone == Stage.HANDED_OVER:
        for unit in household.units:
            unit.status = UnitStatus.ALLOCATED
    if undone == Stage.SIGNED:
        household.rule_id = None
    recorded = [s for s in household.steps if s.actual_date is not None and s.stage != undone]
    household.stage = max(recorded, key=lambda s: stages.rank(s.stage)).stage
    session.flush()
    record_event(
        session,
        "undo_step",
        "Household",
        household.id,
        {"stage": [undone.value, household.stage.value], "reason": reason},
    )
    session.flush()
    return undone


def record_payment(
    session: Session,
    household: Household,
    *,
    kind: PaymentKind,
    amount: Decimal,
    paid_on: date,
    voucher_number: str,
    payee: str,
    operator: User | None,
    note: str | None = None,
    today: date | None = None,
) -> Payment:
    """Record money actually paid to the household, or received from it (a receipt), with its
    voucher."""
    try:
        amount = money(amount)
    except (InvalidOperation, ValueError, TypeError):
        raise RuleViolation(_("Enter a number."), "amount") from None
    if amount <= 0:
        raise RuleViolation(_("The amount must be more than zero."), "amount")
    if paid_on > (today or clock.today()):
        raise RuleViolation(_("The date cannot be in the future."), "paid_on")
    voucher_number = (voucher_number or "").strip()
    if not voucher_number:
        raise RuleViolation(_("The voucher number is required."), "voucher_number")
    if session.scalar(sa.select(Payment.id).where(Payment.voucher_number == voucher_number)):
        raise RuleViolation(
            _("Voucher %(number)s is recorded already.", number=voucher_number), "voucher_number"
        )
    if PaymentKind(kind) in INCOMING_KINDS:
        _receivable(session, household, amount)
    payee = (payee or "").strip() or household.head_name
    payment = Payment(
        household=household,
        kind=PaymentKind(kind),
        amount=amount,
        paid_on=paid_on,
        voucher_number=voucher_number,
        payee=payee,
        note=(note or "").strip() or None,
        recorded_by_id=operator.id if operator else None,
    )
    session.add(payment)
    session.flush()
    return payment


def _receivable(session: Session, household: Household, amount: Decimal) -> None:
    """A receipt takes in what the household owes (a larger flat's price, an overpayment), and
    no more: more would turn the balance into money owed back to it."""
    figures = household_money(session, household)
    if figures is None:
        raise RuleViolation(
            _(
                "This project has no compensation rules yet: what the household owes cannot be "
                "computed, so no receipt can be recorded."
            ),
            "kind",
        )
    owed = money(max(-figures.outstanding, Decimal("0")))
    if amount > owed:
        raise RuleViolation(
            _(
                "The household owes %(owed)s yuan: a receipt of %(amount)s yuan is more than that.",
                owed=format_money(owed),
                amount=format_money(amount),
            ),
            "amount",
        )


def household_summary(household: Household) -> dict[str, Any]:
    """Small facts the household page shows next to the data."""
    return {
        "in_transition": stages.in_transition(household.compensation_mode, household.stage),
        "next_stage": next_stage(household),
        "path": path_for(household),
    }


def validate_household_data(data: HouseholdData) -> HouseholdData:
    """Normalise and check household data by the rules `register_household` applies (imports);
    with `data.warnings_confirmed` the warnings are collected in `data.warnings` instead."""
    return _clean(data)
