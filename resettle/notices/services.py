"""Notices (通知书): what a notice says, issuing one or a batch, reading them back.

A notice is numbered per type and year (文号 such as 东征签催〔2026〕15号) from a locked counter
row in `notice_sequences`, so concurrent issuers get consecutive numbers and a failed issue (a
refused guard, a PDF that could not be made) rolls its number back with the transaction: no
gaps. The PDF is rendered once and archived with its SHA-256; a reprint returns those bytes.
Many notices at once are one document with a page per notice (PITFALLS.md, "PDFs"): the document
is the archived unit and each notice records its first page in it. Numbering, check codes, QR
codes, rendering and archiving are shared with the other numbered documents
(`resettle.documents`); which household may get which notice is `notices.guards`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from resettle import clock
from resettle.audit.services import record_event
from resettle.auth.models import Role, User
from resettle.chinese import in_chinese
from resettle.db import utcnow
from resettle.documents.archive import (
    RenderedDocument,
    archive_document,
    document_is_intact,
    lacking_glyphs,
    page_counts,
    render_parts,
)
from resettle.documents.capitals import amount_in_capitals
from resettle.documents.dates import chinese_date, chinese_datetime
from resettle.documents.models import ArchivedDocument
from resettle.documents.numbers import begin_numbering, new_check_code, next_sequences
from resettle.documents.rendering import ParallelRenderer
from resettle.documents.verification import (
    check_code_matches,
    normalise_number,
    verify_url,
)
from resettle.errors import RuleViolation
from resettle.funds.services import AllowanceStatement, allowance_statement
from resettle.households.models import Household, Stage
from resettle.i18n import format_money
from resettle.idnumbers import mask_id_number
from resettle.notices.guards import (
    DEADLINE_STAGES,
    NoticeInput,
    agreed_moving,
    asked_deadline,
    check_not_twice,
    check_notice,
)
from resettle.notices.models import Notice, NoticeType
from resettle.notices.types import (
    HOUSEHOLD_TYPES,
    NOTICE_TYPE_LABELS,
    TEMPLATES,
    format_number,
)
from resettle.plans.deadlines import PlanDeadline
from resettle.translate import gettext as _

__all__ = [  # what callers take from here (the documents' shared parts live in resettle.documents)
    "HOUSEHOLD_TYPES",
    "NOTICE_TYPE_LABELS",
    "BatchInput",
    "NoticeInput",
    "begin_numbering",
    "asked_deadline",
    "check_notice",
    "document_is_intact",
    "format_number",
    "issue_batch",
    "issue_notice",
    "lacking_glyphs",
    "notice_by_number",
    "notice_pdf",
    "notices_for_household",
    "verify_notice",
    "void_notice",
]

MAX_BATCH = 2000


# --- what a notice says ----------------------------------------------------------------------


def _deadline_fields(due: PlanDeadline | None) -> dict[str, Any]:
    if due is None:
        return {"deadline": None, "deadline_text": "", "deadline_provisional": False}
    return {
        "deadline": due.deadline.isoformat(),
        "deadline_text": chinese_date(due.deadline),
        "deadline_provisional": due.provisional,
    }


def _allowance_fields(statement: AllowanceStatement) -> dict[str, Any]:
    return {
        "allowance_lines": [
            {"label": line.label, "formula": line.formula, "amount": format_money(line.amount)}
            for line in statement.lines
        ],
        "allowance_start_text": chinese_date(statement.start),
        "allowance_until_text": chinese_date(statement.until),
        "allowance_months": statement.months,
        "allowance_running": statement.running,
        "allowance_accrued": format_money(statement.accrued),
        "allowance_paid": format_money(statement.paid),
        "allowance_due": format_money(statement.due),
        "allowance_due_capitals": amount_in_capitals(statement.due),
    }


def household_notice_details(
    household: Household,
    notice_type: NoticeType,
    deadlines: dict[Stage, PlanDeadline],
    data: NoticeInput,
    *,
    statement: AllowanceStatement | None = None,
    agreement_number: str = "",
) -> dict[str, Any]:
    """The plain data a household notice prints (and keeps for /verify): no full ID number."""
    project = household.project
    details: dict[str, Any] = {
        "type": notice_type.value,
        "head_name": household.head_name,
        "id_number_masked": mask_id_number(household.head_id_number),
        "case_number": household.case_number,
        "house_address": household.house_address,
        "project_name": project.name,
        "project_code": project.code,
        "decision_number": project.decision_number or "",
        "decision_date_text": chinese_date(project.decision_date),
        "agreement_number": agreement_number,
    }
    stage = DEADLINE_STAGES.get(notice_type)
    details.update(_deadline_fields(deadlines.get(stage) if stage else None))
    if notice_type == NoticeType.SIGNING:
        details["signing_start_text"] = chinese_date(project.signing_start)
        details["signing_end_text"] = chinese_date(project.signing_end)
    if notice_type == NoticeType.SELECTION:
        details["selection_order"] = household.selection_order
        details["selection_at"] = data.selection_at.isoformat(timespec="minutes")
        details["selection_at_text"] = chinese_datetime(data.selection_at)
        details["site_name"] = project.site.name if project.site else ""
        details["entitled_area"] = (
            f"{household.entitled_area:.2f}" if household.entitled_area is not None else ""
        )
    if notice_type == NoticeType.HANDOVER:
        details["flats"] = [
            {"site": u.building.site.name, "label": u.label, "area": f"{u.area:.2f}"}
            for u in household.units
        ]
    if notice_type == NoticeType.ALLOWANCE and statement is not None:
        details.update(_allowance_fields(statement))
    return details


# --- rendering and archiving -----------------------------------------------------------------


def render_notices(
    entries: Sequence[dict[str, Any]], *, title: str, made_at: datetime
) -> RenderedDocument:
    """The notices (or orders) of one issue as one archived PDF, a page or more each."""
    return render_parts(entries, title=title, made_at=made_at)


@dataclass
class Draft:
    """A notice being issued: its number and code are reserved, its details complete."""

    notice_type: NoticeType
    year: int
    sequence: int
    number: str
    check_code: str
    details: dict[str, Any]
    household_id: int | None = None


def _draft(
    notice_type: NoticeType,
    sequence: int,
    details: dict[str, Any],
    household_id: int | None,
    *,
    issued_on: date,
) -> Draft:
    """A notice with its reserved number: draws its check code, fills number, code and the
    verification address into details."""
    number = format_number(notice_type, issued_on.year, sequence)
    code = new_check_code()
    details.update(
        number=number,
        check_code=code,
        issued_on=issued_on.isoformat(),
        issued_on_text=chinese_date(issued_on),
        verify_url=verify_url(number, code),
    )
    return Draft(notice_type, issued_on.year, sequence, number, code, details, household_id)


def draft_notices(
    session: Session,
    notice_type: NoticeType,
    details_list: Sequence[dict[str, Any]],
    household_ids: Sequence[int | None],
    *,
    issued_on: date,
) -> list[Draft]:
    """Reserve consecutive numbers and draw check codes; fill number, code and QR into details."""
    first = next_sequences(session, notice_type, issued_on.year, len(details_list))
    return [
        _draft(notice_type, first + offset, details, household_id, issued_on=issued_on)
        for offset, (details, household_id) in enumerate(
            zip(details_list, household_ids, strict=True)
        )
    ]


def notice_entry(draft: Draft) -> dict[str, Any]:
    """What the document prints for a draft (its QR code is drawn where it is rendered)."""
    return {
        "template": TEMPLATES[draft.notice_type],
        "n": draft.details,
        "qr_text": draft.details["verify_url"],
    }


def store_notices(
    session: Session,
    drafts: Sequence[Draft],
    *,
    made_at: datetime,
    title: str,
    user: User | None,
    issued_on: date,
    rendered: RenderedDocument | None = None,
) -> list[Notice]:
    """Render the drafts as one document (unless `rendered` is it already), archive it, and
    save one Notice row per draft."""
    if rendered is None:
        entries = [notice_entry(draft) for draft in drafts]
        rendered = render_notices(entries, title=title, made_at=made_at)
    document = archive_document(session, rendered, count=len(drafts), user=user)
    counts = page_counts(rendered.first_pages, rendered.pages)
    notices = []
    for draft, first_page, page_count in zip(drafts, rendered.first_pages, counts, strict=True):
        notice = Notice(
            type=draft.notice_type,
            year=draft.year,
            sequence=draft.sequence,
            number=draft.number,
            check_code=draft.check_code,
            household_id=draft.household_id,
            document=document,
            first_page=first_page,
            page_count=page_count,
            issued_on=issued_on,
            issued_at=made_at,
            issued_by_id=user.id if user else None,
            details=dict(draft.details),
        )
        session.add(notice)
        notices.append(notice)
    session.flush()
    return notices


def _statement(
    session: Session, household: Household, notice_type: NoticeType, today: date
) -> AllowanceStatement | None:
    """The allowance statement an allowance notice prints (None for the other types), its
    lines in Chinese like the rest of the notice."""
    if notice_type != NoticeType.ALLOWANCE:
        return None
    with in_chinese():
        return allowance_statement(session, household, as_of=today)


def _agreement_number(session: Session, household: Household, notice_type: NoticeType) -> str:
    """The agreement a vacating notice refers to (empty without one in the system)."""
    if notice_type != NoticeType.VACATING:
        return ""
    agreed = agreed_moving(session, household)
    return agreed[0] if agreed else ""


def _asking(
    session: Session,
    household: Household,
    notice_type: NoticeType,
    data: NoticeInput,
    today: date,
) -> dict[Stage, PlanDeadline]:
    """The household's deadlines after the guards, with the one the notice asks for in place."""
    deadlines = check_notice(session, household, notice_type, data, today=today)
    check_not_twice(session, household, notice_type, data)
    asked = asked_deadline(session, household, notice_type, deadlines, data, today)
    if asked is None:
        return deadlines
    stage = DEADLINE_STAGES[notice_type]
    return {**deadlines, stage: asked}


def issue_notice(
    session: Session,
    household: Household,
    notice_type: NoticeType,
    data: NoticeInput | None = None,
    *,
    user: User | None,
    today: date | None = None,
) -> Notice:
    """Issue one notice to a household: check, number, render, archive. Nothing is kept (and
    the number is given back) when the guard refuses or the PDF cannot be made."""
    notice_type = NoticeType(notice_type)
    data = data or NoticeInput()
    today = today or clock.today()
    deadlines = _asking(session, household, notice_type, data, today)
    details = household_notice_details(
        household,
        notice_type,
        deadlines,
        data,
        statement=_statement(session, household, notice_type, today),
        agreement_number=_agreement_number(session, household, notice_type),
    )
    drafts = draft_notices(session, notice_type, [details], [household.id], issued_on=today)
    made_at = utcnow()
    with in_chinese():
        title = f"{NOTICE_TYPE_LABELS[notice_type]} {drafts[0].number}"
    return store_notices(
        session,
        drafts,
        made_at=made_at,
        title=title,
        user=user,
        issued_on=today,
    )[0]


@dataclass
class BatchInput:
    """A batch's selection times: the first household (by selection order) at `selection_at`,
    each next one `slot_minutes` later."""

    selection_at: datetime | None = None
    slot_minutes: int = 0
    deadline: date | None = None  # the date every notice asks for, when not the plans'
    again: bool = False  # also to households that have one of this type in force


def check_batch(count: int, data: BatchInput, today: date) -> None:
    """What a batch is refused for before any household is looked at (the page checks it
    before it starts the job)."""
    if not count:
        raise RuleViolation(_("Choose at least one household."), "households")
    if data.deadline is not None and data.deadline < today:
        raise RuleViolation(
            _(
                "The date %(date)s is before the issue date %(today)s: a notice cannot ask for a "
                "date already past.",
                date=data.deadline.isoformat(),
                today=today.isoformat(),
            ),
            "deadline",
        )
    if count > MAX_BATCH:
        raise RuleViolation(_("At most %(n)d notices in one batch.", n=MAX_BATCH), "households")


def issue_batch(
    session: Session,
    households: Sequence[Household],
    notice_type: NoticeType,
    data: BatchInput | None = None,
    *,
    user: User | None,
    today: date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ArchivedDocument:
    """Issue one notice per household as one PDF document (consecutive numbers in the order of
    the households; selection notices in selection order). Refused as a whole, naming the
    households, when any of them cannot get this notice."""
    notice_type = NoticeType(notice_type)
    data = data or BatchInput()
    today = today or clock.today()
    check_batch(len(households), data, today)
    ordered = list(households)
    if notice_type == NoticeType.SELECTION:
        ordered.sort(key=lambda h: (h.selection_order or 0, h.case_number))
    else:
        ordered.sort(key=lambda h: h.case_number)
    # Numbers for the whole batch first, in a savepoint that a refused batch rolls back (so
    # nothing is written), then each household's notice is drafted and sent to the renderer
    # as soon as its details are known: the PDF's parts render in other processes while the
    # next households are checked.
    with in_chinese():
        title = str(NOTICE_TYPE_LABELS[notice_type])
    made_at = utcnow()
    drafts: list[Draft] = []
    refused: list[str] = []
    # Progress: half for the households checked, half for the notices laid out.
    counts = {"checked": 0, "rendered": 0}

    def report(**more: int) -> None:
        for key, n in more.items():
            counts[key] += n
        if progress is not None:
            progress((counts["checked"] + counts["rendered"]) // 2, len(ordered))

    with (
        session.begin_nested(),
        ParallelRenderer(
            title=title,
            made_at=made_at,
            expected_parts=len(ordered),
            on_rendered=lambda n: report(rendered=n),
        ) as renderer,
    ):
        first = next_sequences(session, notice_type, today.year, len(ordered))
        for index, household in enumerate(ordered):
            report(checked=1)
            single = NoticeInput(deadline=data.deadline, again=data.again)
            if data.selection_at is not None:
                single.selection_at = data.selection_at + timedelta(
                    minutes=index * max(data.slot_minutes, 0)
                )
            try:
                deadlines = _asking(session, household, notice_type, single, today)
            except RuleViolation as exc:
                if exc.field == "selection_at":
                    raise
                refused.append(exc.message)
                continue
            if refused:  # the batch is refused: the rest are only checked, to name them all
                continue
            details = household_notice_details(
                household,
                notice_type,
                deadlines,
                single,
                statement=_statement(session, household, notice_type, today),
                agreement_number=_agreement_number(session, household, notice_type),
            )
            draft = _draft(notice_type, first + index, details, household.id, issued_on=today)
            drafts.append(draft)
            renderer.submit([notice_entry(draft)])
        if refused:
            shown = "；".join(refused[:5])
            raise RuleViolation(
                _(
                    "%(n)d of the chosen households cannot get this notice, so none was issued: "
                    "%(reasons)s",
                    n=len(refused),
                    reasons=shown + ("…" if len(refused) > 5 else ""),
                ),
                "households",
            )
        rendered = renderer.finish()
    notices = store_notices(
        session,
        drafts,
        made_at=made_at,
        title=title,
        user=user,
        issued_on=today,
        rendered=rendered,
    )
    return notices[0].document


def glyph_warning(details: dict[str, Any]) -> str | None:
    """What the issuer is told when the PDF font cannot print part of a name or address."""
    lacking = lacking_glyphs(details)
    if not lacking:
        return None
    return _(
        "The PDF font has no glyph for %(chars)s in %(case)s's name or address: "
        "these characters print as empty boxes. Write them in by hand on the paper "
        "copy.",
        chars=" ".join(lacking),
        case=details.get("case_number", ""),
    )


# --- reading ---------------------------------------------------------------------------------


def notice_pdf(notice: Notice) -> bytes:
    """The archived PDF the notice was issued in, byte for byte (never rendered again)."""
    return notice.document.pdf


def notice_by_number(session: Session, number: str) -> Notice | None:
    """The notice with this number, however its brackets, digits or spaces were typed."""
    return session.scalar(sa.select(Notice).where(Notice.number == normalise_number(number)))


def notices_for_household(session: Session, household_id: int) -> list[Notice]:
    """The household's notices, newest first (for the household page)."""
    return list(
        session.scalars(
            sa.select(Notice)
            .where(Notice.household_id == household_id)
            .options(selectinload(Notice.document))
            .order_by(Notice.issued_at.desc(), Notice.id.desc())
        )
    )


#: Who may void a notice: the supervision office and admins (a caseworker issues, not voids).
VOIDERS = (Role.SUPERVISOR, Role.ADMIN)


def void_notice(session: Session, notice: Notice, reason: str, *, user: User) -> None:
    """Void (作废) a notice with a reason: it stays archived, reprints as issued and verifies
    as voided. One conditional UPDATE, so a double click or two supervisors at once void it
    once; the second is told it is void already. Audited explicitly (Core bypasses the
    listener). A notice in a batch document is voided alone."""
    if user.role not in VOIDERS:
        raise RuleViolation(_("Only the supervision office or an admin voids a notice."), "reason")
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation(_("Give the reason the notice is voided."), "reason")
    now = utcnow()
    done = session.execute(
        sa.update(Notice)
        .where(Notice.id == notice.id, Notice.voided_at.is_(None))
        .values(voided_at=now, voided_by_id=user.id, void_reason=reason[:2000])
        .execution_options(synchronize_session=False)
    ).rowcount
    if not done:
        raise RuleViolation(_("Notice %(number)s is void already.", number=notice.number), "reason")
    record_event(
        session,
        "update",
        "Notice",
        notice.id,
        {
            "voided_at": [None, now.isoformat()],
            "voided_by_id": [None, user.id],
            "void_reason": [None, reason[:2000]],
        },
    )
    session.expire(notice)


def verify_notice(session: Session, number: str, code: str) -> Notice | None:
    """The notice with this number when the check code matches, else None (for /public/verify:
    one answer whatever was wrong). Codes are compared in constant time, spaces and case aside."""
    notice = notice_by_number(session, number or "")
    if notice is None or not check_code_matches(code, notice.check_code):
        return None
    return notice
