"""Agreements (补偿协议): what one says, issuing it at signing, supplements, reading them back.

The household's agreement is issued when it signs (Decree 590 Art. 25: the compensation mode and
amount, the payment deadline, for a swap the entitled area and the prices of the flat, the
moving deadline, the transition method and period). Its figures come from the one computation
(`resettle.funds.compensation`) under the rule version the household signs under, and are frozen
in the agreement: a later change is a supplementary agreement (补充协议) with its own number that
states the difference, never a new version of the first. Numbering, check codes, QR codes,
rendering and archiving are those of every numbered document (`resettle.documents`); a reprint
returns the archived bytes. Callers open the transaction with `begin_numbering` (on SQLite it
takes the write lock first), so a double click or two caseworkers at once sign once.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from resettle import clock
from resettle.agreements.kinds import (
    AGREEMENT_KIND_LABELS,
    DOCUMENT_TEMPLATE,
    TEMPLATES,
    format_number,
    kind_for,
)
from resettle.agreements.models import Agreement, AgreementKind, latest_agreement
from resettle.auth.models import User
from resettle.chinese import in_chinese
from resettle.db import money, utcnow
from resettle.documents.archive import archive_document, page_counts, render_parts
from resettle.documents.capitals import amount_in_capitals
from resettle.documents.dates import chinese_date
from resettle.documents.numbers import new_check_code, next_sequences
from resettle.documents.verification import (
    check_code_matches,
    normalise_number,
    verify_url,
)
from resettle.errors import RuleViolation
from resettle.funds.compensation import ZERO, Line
from resettle.funds.services import (
    SWAP,
    current_rule,
    due_before_moving,
    facts_of,
    household_money,
    net_before_moving,
    swap_deduction,
    terms_of,
)
from resettle.households import stages
from resettle.households.models import CaseStep, Household, Stage
from resettle.households.services import record_step, step_for
from resettle.i18n import format_money
from resettle.idnumbers import mask_id_number
from resettle.pdf import PDF_VARIANT_ARCHIVE
from resettle.plans.deadlines import household_deadlines
from resettle.plans.services import app_calendar
from resettle.translate import gettext as _

#: Most agreements in one printed document (a batch is one PDF with a part per agreement).
MAX_BATCH = 2000
#: No payment or moving date of an agreement lies further than this from the day it is drawn
#: up (a typed 2099 for 2026 would otherwise become a signed, numbered deadline).
MAX_YEARS_AHEAD = 3


def _latest_allowed(issued_on: date) -> date:
    try:
        return issued_on.replace(year=issued_on.year + MAX_YEARS_AHEAD)
    except ValueError:  # 29 February
        return issued_on.replace(year=issued_on.year + MAX_YEARS_AHEAD, day=28)


def _not_too_far(day: date, issued_on: date, field: str) -> None:
    latest = _latest_allowed(issued_on)
    if day > latest:
        raise RuleViolation(
            _(
                "%(day)s is more than %(n)d years after the agreement is drawn up (latest "
                "%(latest)s); check the year.",
                day=day.isoformat(),
                n=MAX_YEARS_AHEAD,
                latest=latest.isoformat(),
            ),
            field,
        )


#: The lines an agreement fixes: not the temporary allowance (it runs until the handover) and
#: not the flat's price (the flat is chosen later; the settlement sheet settles it).
def _agreed(line: Line) -> bool:
    return not line.key.startswith(("allowance", "flat_"))


@dataclass
class AgreementInput:
    """What the caseworker decides on the issue form: the instalments of the payment before
    moving (none: one instalment), a moving deadline (none: by the plan and the project's
    notice period), a swap's transit flat, and for a supplement its reason."""

    instalments: list[tuple[Decimal, date]] = field(default_factory=list)
    moving_deadline: date | None = None
    reason: str = ""
    # A swap household's transition: the transit flat (周转房) it is lent; empty, it arranges
    # its own and is paid the temporary allowance.
    transit_flat: str = ""


def _capitals(amount: Decimal) -> str:
    return amount_in_capitals(abs(amount))


def agreements_for_household(session: Session, household_id: int) -> list[Agreement]:
    """The household's agreement and its supplements, in the order they were signed."""
    return list(
        session.scalars(
            sa.select(Agreement)
            .where(Agreement.household_id == household_id)
            .options(selectinload(Agreement.document))
            .order_by(Agreement.id)
        )
    )


def agreement_in_force(session: Session, household_id: int) -> Agreement | None:
    """The latest of the household's agreement and its supplements: the figures that hold."""
    return session.scalar(latest_agreement(household_id))


def agreement_by_number(session: Session, number: str) -> Agreement | None:
    """The agreement with this number, however its brackets, digits or spaces were typed."""
    return session.scalar(sa.select(Agreement).where(Agreement.number == normalise_number(number)))


def verify_agreement(session: Session, number: str, code: str) -> Agreement | None:
    """The agreement when number and check code match, else None (one answer for /verify)."""
    agreement = agreement_by_number(session, number or "")
    if agreement is None or not check_code_matches(code, agreement.check_code):
        return None
    return agreement


def agreement_pdf(agreement: Agreement) -> bytes:
    """The archived PDF the agreement was issued in, byte for byte (never rendered again)."""
    return agreement.document.pdf


# --- what an agreement says ------------------------------------------------------------------


def _moving_deadline(
    session: Session, household: Household, last_due: date, entered: date | None, issued_on: date
) -> tuple[date, bool]:
    """The day the household must have moved out by: the one entered (not before the last
    payment is due: compensate first, move later), else the plan's vacating deadline when it
    is after the last payment, else the project's notice period after that payment."""
    if entered is not None:
        _not_too_far(entered, issued_on, "moving_deadline")
        if entered < last_due:
            raise RuleViolation(
                _(
                    "The moving deadline %(day)s is before the last payment is due "
                    "(%(due)s): the household is paid first and moves after.",
                    day=entered.isoformat(),
                    due=last_due.isoformat(),
                ),
                "moving_deadline",
            )
        return entered, False
    planned = household_deadlines(session, household).get(Stage.VACATED)
    if planned is not None and planned.deadline > last_due:
        return planned.deadline, planned.provisional
    calendar = app_calendar(session)
    day = calendar.add_workdays(last_due, household.project.notice_workdays)
    return day, calendar.touches_provisional(last_due, day)


def _instalments(
    before_moving: Decimal, signed_on: date, due_days: int, data: AgreementInput
) -> list[dict[str, Any]]:
    """The payment before moving in instalments: as entered (they must add up and not be due
    before signing), else one within the rule's payment period after signing."""
    if not data.instalments:
        if before_moving <= 0:
            return []
        plan = [(before_moving, signed_on + timedelta(days=due_days))]
    else:
        plan = sorted(((money(a), d) for a, d in data.instalments), key=lambda p: p[1])
        if any(amount <= 0 for amount, _d in plan):
            raise RuleViolation(_("Every instalment must be more than zero."), "instalments")
        if plan[0][1] < signed_on:
            raise RuleViolation(
                _(
                    "An instalment cannot be due before the agreement is signed (%(day)s).",
                    day=signed_on.isoformat(),
                ),
                "instalments",
            )
        for _amount, due in plan:
            _not_too_far(due, signed_on, "instalments")
        if money(sum((a for a, _d in plan), ZERO)) != before_moving:
            raise RuleViolation(
                _(
                    "The instalments add up to %(sum)s yuan; the payment before moving is "
                    "%(due)s yuan.",
                    sum=format_money(money(sum((a for a, _d in plan), ZERO))),
                    due=format_money(before_moving),
                ),
                "instalments",
            )
    return [
        {
            "n": index,
            "amount": str(amount),
            "amount_text": format_money(amount),
            "capitals": _capitals(amount),
            "due_on": due.isoformat(),
            "due_text": chinese_date(due),
        }
        for index, (amount, due) in enumerate(plan, start=1)
    ]


def _swap_terms(household: Household, terms: Any) -> dict[str, Any]:
    """For a swap: the entitled area, the three tier prices, and the price of the entitled
    area set against the compensation (the flat beyond it is settled at the handover)."""
    entitled = household.entitled_area
    deduction = swap_deduction(facts_of(household), terms)
    return {
        "entitled_area": f"{entitled:,.2f}",
        "price_within": format_money(terms.price_within_entitled),
        "band_m2": f"{terms.band_m2:,.2f}",
        "price_band": format_money(terms.price_first_band),
        "price_beyond": format_money(terms.price_beyond_band),
        "deduction": str(deduction),
        "deduction_text": format_money(deduction),
        "deduction_formula": (
            f"{entitled:,.2f} m² × {format_money(terms.price_within_entitled)} 元/m²"
            f" = {format_money(deduction)} 元"
        ),
        "site_name": household.project.site.name if household.project.site else "",
        "transition_months": terms.transition_months,
        "allowance_rate": format_money(terms.temporary_per_m2_month),
        "allowance_month": format_money(money(household.legal_area * terms.temporary_per_m2_month)),
        "overrun": ", ".join(
            _("from overdue month %(m)d ×%(f)s", m=m, f=f"{f.normalize():f}")
            for m, f in terms.overrun_tiers
        ),
        "moving_again": format_money(money(household.legal_area * terms.moving_per_m2)),
        "transit_flat": household.transit_flat or "",
    }


def agreement_figures(
    session: Session,
    household: Household,
    data: AgreementInput,
    *,
    signed_on: date,
    issued_on: date | None = None,
) -> dict[str, Any]:
    """Everything an agreement prints and keeps, as plain data (no full ID number), for a
    household whose signing is recorded on `signed_on` (its rule version assigned). Payment
    and moving deadlines count from the day it is drawn up (`issued_on`, the signing day
    unless a paper agreement is archived later), so none is already past when printed."""
    issued_on = max(issued_on or signed_on, signed_on)
    project = household.project
    rule = household.rule or current_rule(session, household.project_id, signed_on)
    if rule is None:
        raise RuleViolation(
            _("The project has no compensation rules yet; an agreement cannot be drawn up."),
            "household",
        )
    terms = terms_of(rule, project)
    with in_chinese():
        computed = household_money(session, household, as_of=signed_on)
        lines = [line for line in computed.lines if _agreed(line)] if computed else []
        swap = household.compensation_mode in SWAP
        swap_terms = _swap_terms(household, terms) if swap else None
    total = money(sum((line.amount for line in lines), ZERO))
    facts = facts_of(household)
    deduction = swap_deduction(facts, terms)
    net = money(total - deduction)
    before_moving = net_before_moving({line.key: line.amount for line in lines}, facts, terms)
    instalments = _instalments(before_moving, issued_on, rule.compensation_due_days, data)
    last_due = date.fromisoformat(instalments[-1]["due_on"]) if instalments else issued_on
    moving_by, provisional = _moving_deadline(
        session, household, last_due, data.moving_deadline, issued_on
    )
    return {
        "household_id": household.id,
        "head_name": household.head_name,
        "id_number_masked": mask_id_number(household.head_id_number),
        "case_number": household.case_number,
        "house_address": household.house_address,
        "house_use": household.house_use,
        "legal_area": f"{household.legal_area:,.2f}",
        "project_name": project.name,
        "project_code": project.code,
        "decision_number": project.decision_number or "",
        "decision_date_text": chinese_date(project.decision_date),
        "mode": household.compensation_mode.value,
        "rule_version": rule.version,
        "lines": [
            {
                "key": line.key,
                "label": line.label,
                "amount": str(line.amount),
                "amount_text": format_money(line.amount),
                "formula": line.formula,
            }
            for line in lines
        ],
        "total": str(total),
        "total_text": format_money(total),
        "total_capitals": _capitals(total),
        "swap": swap_terms,
        "net": str(net),
        "net_text": format_money(abs(net)),
        "net_capitals": _capitals(net),
        "net_owed_by_household": net < 0,
        "before_moving": str(before_moving),
        "before_moving_text": format_money(before_moving),
        "before_moving_capitals": _capitals(before_moving),
        "instalments": instalments,
        "due_days": rule.compensation_due_days,
        "signed_on": signed_on.isoformat(),
        "signed_on_text": chinese_date(signed_on),
        "moving_deadline": moving_by.isoformat(),
        "moving_deadline_text": chinese_date(moving_by),
        "moving_deadline_provisional": provisional,
    }


# --- issuing ---------------------------------------------------------------------------------


def _ready(session: Session, household: Household) -> date | None:
    """Refuse a household that cannot sign an agreement; returns the day its signing was
    recorded when it already signed (an agreement made on paper, archived now), else None."""
    if household.compensation_mode is None:
        raise RuleViolation(
            _("Choose the compensation mode before drawing up the agreement."), "household"
        )
    if household.appraisal_value is None and household.appraisal_unit_price is None:
        raise RuleViolation(
            _("The house has no appraisal yet; the agreement needs its value."), "household"
        )
    if household.compensation_mode in SWAP and household.entitled_area is None:
        raise RuleViolation(
            _("Enter the entitled resettlement area before a property swap agreement."),
            "household",
        )
    if stages.rank(household.stage) < stages.rank(Stage.APPRAISED):
        raise RuleViolation(_("The household is not appraised yet and cannot sign."), "household")
    signed = step_for(household, Stage.SIGNED)
    return signed.actual_date if signed is not None and signed.actual_date else None


def _refuse_second(session: Session, household: Household) -> None:
    existing = agreement_in_force(session, household.id)
    if existing is not None:
        raise RuleViolation(
            _(
                "Household %(case)s already has its agreement %(number)s; a change is a "
                "supplementary agreement.",
                case=household.case_number,
                number=existing.number,
            ),
            "household",
        )


@dataclass
class _Part:
    household: Household
    kind: AgreementKind
    figures: dict[str, Any]
    signed_on: date
    total: Decimal
    before_moving: Decimal
    amends: Agreement | None = None
    reason: str | None = None


def _store(
    session: Session, parts: Sequence[_Part], *, user: User | None, issued_on: date
) -> list[Agreement]:
    """Number the parts (consecutively per kind), render them as one archived document, and
    keep one Agreement row per part."""
    counts = {kind: sum(1 for p in parts if p.kind == kind) for kind in AgreementKind}
    following = {
        kind: next_sequences(session, kind.value, issued_on.year, count)
        for kind, count in counts.items()
        if count
    }
    numbered: list[tuple[_Part, int, str, str]] = []
    for part in parts:  # in the parts' order, each kind counting on from its first number
        sequence = following[part.kind]
        following[part.kind] += 1
        number = format_number(part.kind, issued_on.year, sequence)
        numbered.append((part, sequence, number, new_check_code()))
    entries = []
    for part, _sequence, number, code in numbered:
        url = verify_url(number, code)
        part.figures.update(
            kind=part.kind.value,
            number=number,
            check_code=code,
            verify_url=url,
            issued_on=issued_on.isoformat(),
            issued_on_text=chinese_date(issued_on),
        )
        with in_chinese():
            part.figures["kind_label"] = str(AGREEMENT_KIND_LABELS[part.kind])
        entries.append(
            {
                "template": TEMPLATES[part.kind],
                # the full ID number is printed on the agreement, never kept in its figures
                "n": {**part.figures, "id_number": part.household.head_id_number},
                "qr_text": url,  # drawn where the part is rendered
            }
        )
    made_at = utcnow()
    with in_chinese():
        title = (
            f"{AGREEMENT_KIND_LABELS[parts[0].kind]} {numbered[0][2]}"
            if len(parts) == 1
            else _("%(n)d agreements", n=len(parts))
        )
    rendered = render_parts(
        entries,
        title=title,
        made_at=made_at,
        template=DOCUMENT_TEMPLATE,
        pdf_variant=PDF_VARIANT_ARCHIVE,
    )
    document = archive_document(session, rendered, count=len(parts), user=user)
    counts = page_counts(rendered.first_pages, rendered.pages)
    agreements = []
    for (part, sequence, number, code), first_page, page_count in zip(
        numbered, rendered.first_pages, counts, strict=True
    ):
        agreement = Agreement(
            kind=part.kind,
            year=issued_on.year,
            sequence=sequence,
            number=number,
            check_code=code,
            household_id=part.household.id,
            amends_id=part.amends.id if part.amends else None,
            reason=part.reason,
            rule_id=part.household.rule_id,
            document=document,
            first_page=first_page,
            page_count=page_count,
            signed_on=part.signed_on,
            issued_at=made_at,
            issued_by_id=user.id if user else None,
            total=part.total,
            before_moving=part.before_moving,
            figures=dict(part.figures),
        )
        session.add(agreement)
        agreements.append(agreement)
    session.flush()
    return agreements


def _bind_moving_deadline(household: Household, day: date) -> None:
    """The agreed moving deadline becomes the household's own deadline for vacating (it wins
    over the plan's on every page, list and notice), unless it has vacated already."""
    step = step_for(household, Stage.VACATED)
    if step is None:
        household.steps.append(CaseStep(stage=Stage.VACATED, deadline=day))
    elif step.actual_date is None:
        step.deadline = day


def _part(
    session: Session, household: Household, data: AgreementInput, *, user: User | None, today: date
) -> _Part:
    """Sign the household today (unless its signing was recorded already) and draw up its
    agreement's figures."""
    signed_on = _ready(session, household)
    transit = " ".join((data.transit_flat or "").split())
    if transit:
        if household.compensation_mode not in SWAP:
            raise RuleViolation(
                _("Only a property swap household has a transition and a transit flat."),
                "transit_flat",
            )
        if len(transit) > 200:
            raise RuleViolation(_("At most 200 characters."), "transit_flat")
        household.transit_flat = transit
    if signed_on is None:
        record_step(session, household, Stage.SIGNED, today, operator=user, today=today)
        signed_on = today
    figures = agreement_figures(session, household, data, signed_on=signed_on, issued_on=today)
    _bind_moving_deadline(household, date.fromisoformat(figures["moving_deadline"]))
    return _Part(
        household=household,
        kind=kind_for(household.compensation_mode),
        figures=figures,
        signed_on=signed_on,
        total=Decimal(figures["net"]),
        before_moving=Decimal(figures["before_moving"]),
    )


def issue_agreement(
    session: Session,
    household: Household,
    data: AgreementInput | None = None,
    *,
    user: User | None,
    today: date | None = None,
) -> Agreement:
    """The household signs: its signing is recorded today (or was already, from a paper
    agreement) and its agreement numbered, rendered and archived. Nothing is kept, and the
    number is given back, when a guard refuses or the PDF cannot be made."""
    today = today or clock.today()
    _refuse_second(session, household)
    part = _part(session, household, data or AgreementInput(), user=user, today=today)
    return _store(session, [part], user=user, issued_on=today)[0]


def issue_agreements(
    session: Session,
    households: Sequence[Household],
    *,
    user: User | None,
    today: date | None = None,
) -> list[Agreement]:
    """Many households' agreements at once (one instalment each), in one printed document;
    any household that cannot sign stops the batch with its case number in the message."""
    if not households:
        raise RuleViolation(_("Choose at least one household."), "households")
    if len(households) > MAX_BATCH:
        raise RuleViolation(
            _("At most %(n)d agreements in one document.", n=MAX_BATCH), "households"
        )
    today = today or clock.today()
    parts = []
    for household in households:
        try:
            _refuse_second(session, household)
            parts.append(_part(session, household, AgreementInput(), user=user, today=today))
        except RuleViolation as refused:
            raise RuleViolation(
                f"{household.case_number}：{refused.message}", refused.field
            ) from None
    return _store(session, parts, user=user, issued_on=today)


def draft_agreement_pdf(
    session: Session,
    household: Household,
    data: AgreementInput | None = None,
    *,
    today: date | None = None,
) -> bytes:
    """A preview of the agreement the household would sign today, unnumbered and marked as a
    draft (草稿); nothing is recorded or kept."""
    today = today or clock.today()
    data = data or AgreementInput()
    _refuse_second(session, household)
    with session.begin_nested() as preview:  # signing is recorded only to compute, then undone
        part = _part(session, household, data, user=None, today=today)
        figures = dict(part.figures)
        preview.rollback()
    session.expire(household)
    with in_chinese():
        figures.update(
            kind=part.kind.value,
            kind_label=str(AGREEMENT_KIND_LABELS[part.kind]),
            number=_("(draft, not numbered)"),
            check_code="",
            draft=True,
            issued_on=today.isoformat(),
            issued_on_text=chinese_date(today),
        )
    rendered = render_parts(
        [
            {
                "template": TEMPLATES[part.kind],
                "n": {**figures, "id_number": household.head_id_number},
                "qr": "",
            }
        ],
        title=str(figures["kind_label"]),
        made_at=utcnow(),
        template=DOCUMENT_TEMPLATE,
        pdf_variant=None,
    )
    return rendered.pdf


# --- supplements -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Drift:
    """The household's agreed amount now against its agreement in force (for a swap net of
    the entitled area's price): a supplementary agreement is due."""

    number: str
    agreed: Decimal
    now: Decimal

    @property
    def difference(self) -> Decimal:
        return money(self.now - self.agreed)


def _agreed_now(session: Session, household: Household, signed_on: date) -> Decimal | None:
    """What the household's agreement would say now: its agreed lines under the version it
    signed, less a swap's entitled area at its price."""
    computed = household_money(session, household, as_of=signed_on)
    if computed is None or computed.rule is None:
        return None
    total = money(sum((line.amount for line in computed.lines if _agreed(line)), ZERO))
    terms = terms_of(computed.rule, household.project)
    return money(total - swap_deduction(facts_of(household), terms))


def agreement_drift(session: Session, household: Household) -> Drift | None:
    """When what the household is owed now differs from its agreement in force (a change after
    signing: the area, the appraisal, an item, the entitled area), the two amounts; None when
    they agree or there is no agreement."""
    in_force = agreement_in_force(session, household.id)
    if in_force is None or "net" not in (in_force.figures or {}):
        return None
    now = _agreed_now(session, household, in_force.signed_on)
    agreed = money(Decimal(in_force.figures["net"]))
    if now is None or now == agreed:
        return None
    return Drift(in_force.number, agreed, now)


def supplement_figures(
    session: Session,
    household: Household,
    in_force: Agreement,
    data: AgreementInput,
    *,
    today: date,
) -> dict[str, Any]:
    """What a supplementary agreement says: the lines now, against the agreement in force, and
    the difference either way with its instalment."""
    reason = (data.reason or "").strip()
    if not reason:
        raise RuleViolation(_("Give the reason for the supplementary agreement."), "reason")
    old = in_force.figures
    signed_on = date.fromisoformat(old["signed_on"])
    entered = data.moving_deadline
    if entered is not None and entered < today:
        raise RuleViolation(
            _(
                "The moving deadline %(day)s is before today; an agreement cannot ask for a "
                "date already past.",
                day=entered.isoformat(),
            ),
            "moving_deadline",
        )
    now = agreement_figures(
        session,
        household,
        AgreementInput(moving_deadline=entered or date.fromisoformat(old["moving_deadline"])),
        signed_on=signed_on,
        issued_on=today,
    )
    difference = money(Decimal(now["net"]) - Decimal(old["net"]))
    moved = now["moving_deadline"] != old["moving_deadline"]
    if difference == 0 and now["lines"] == old["lines"] and not moved:
        raise RuleViolation(
            _(
                "Nothing differs from agreement %(number)s: its figures and moving deadline "
                "still hold.",
                number=in_force.number,
            ),
            "reason",
        )
    due = today + timedelta(days=int(now["due_days"]))
    # Less than agreed: money is handed back only where more was paid than is now due
    owed = due_before_moving(session, household, by=today)
    refund = money(max(owed.paid - Decimal(now["before_moving"]), ZERO)) if owed else ZERO
    now.update(
        refund=str(refund),
        refund_text=format_money(refund),
        refund_capitals=_capitals(refund),
        reason=reason,
        amends_number=in_force.number,
        amends_signed_on_text=chinese_date(in_force.signed_on),
        first_number=old.get("first_number", in_force.number),
        old_lines=old["lines"],
        old_net=old["net"],
        old_net_text=old["net_text"],
        difference=str(difference),
        difference_text=format_money(abs(difference)),
        difference_capitals=_capitals(difference),
        difference_to_household=difference > 0,
        difference_due_text=chinese_date(due),
        moving_deadline_changed=moved,
        old_moving_deadline_text=old["moving_deadline_text"],
        signed_on=today.isoformat(),
        signed_on_text=chinese_date(today),
    )
    return now


def issue_supplement(
    session: Session,
    household: Household,
    data: AgreementInput,
    *,
    user: User | None,
    today: date | None = None,
) -> Agreement:
    """A supplementary agreement (补充协议) for a change after signing: numbered and archived,
    stating the difference from the agreement in force, which stays as it was."""
    today = today or clock.today()
    in_force = agreement_in_force(session, household.id)
    if in_force is None:
        raise RuleViolation(
            _("The household has no agreement yet; issue its agreement first."), "household"
        )
    figures = supplement_figures(session, household, in_force, data, today=today)
    _bind_moving_deadline(household, date.fromisoformat(figures["moving_deadline"]))
    part = _Part(
        household=household,
        kind=AgreementKind.SUPPLEMENT,
        figures=figures,
        signed_on=today,
        total=Decimal(figures["net"]),
        before_moving=Decimal(figures["before_moving"]),
        amends=in_force,
        reason=figures["reason"],
    )
    return _store(session, [part], user=user, issued_on=today)[0]


def parse_instalments(text: str | None) -> list[tuple[Decimal, date]]:
    """ "500000, 2026-12-20" per line → [(amount, date)]; a clear message on anything else."""
    plan = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = unicodedata.normalize("NFKC", raw).strip().replace("、", ",")
        if not line:
            continue
        amount_text, _sep, day_text = line.rpartition(",")
        try:
            typed = Decimal(amount_text.replace(",", "").replace(" ", ""))
            day = date.fromisoformat(day_text.strip())
            if not typed.is_finite() or typed != money(typed):  # (no third decimal)
                raise ValueError(line)
            amount = money(typed)
        except (ArithmeticError, ValueError):
            raise RuleViolation(
                _(
                    "Line %(n)d: write an instalment as amount, date (such as 500000, 2026-12-20).",
                    n=number,
                ),
                "instalments",
            ) from None
        plan.append((amount, day))
    return plan
