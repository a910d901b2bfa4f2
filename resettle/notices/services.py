"""Notices (通知书): guards, numbers without gaps, check codes, QR codes, PDF archive, reprint.

A notice is numbered per type and year (文号 such as 东征签催〔2026〕15号) from a locked counter
row in `notice_sequences`, so concurrent issuers get consecutive numbers and a failed issue (a
refused guard, a PDF that could not be made) rolls its number back with the transaction: no
gaps. The PDF is rendered once and archived with its SHA-256; a reprint returns those bytes.
Many notices at once are one document with a page per notice (PITFALLS.md, "PDFs"): the document
is the archived unit and each notice records its first page in it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import qrcode
import sqlalchemy as sa
from flask import current_app, has_request_context, request, url_for
from qrcode.constants import ERROR_CORRECT_M
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload
from weasyprint import HTML
from werkzeug.routing import BuildError

from resettle import clock
from resettle.auth.models import User
from resettle.chinese import in_chinese
from resettle.db import begin_write, utcnow
from resettle.errors import RuleViolation
from resettle.funds.services import AllowanceStatement, allowance_statement
from resettle.households import stages
from resettle.households.models import Household, Stage
from resettle.households.services import stage_label
from resettle.households.stages import SWAP_MODES
from resettle.i18n import format_money
from resettle.idnumbers import mask_id_number
from resettle.notices.models import Notice, NoticeDocument, NoticeSequence, NoticeType
from resettle.pdf import (
    FONT_CONFIG,
    PDF_VARIANT_ARCHIVE,
    RENDER_LOCK,
    missing_glyphs,
    render_html,
    url_fetcher_for_app,
)
from resettle.plans.deadlines import PlanDeadline, household_deadlines
from resettle.translate import gettext as _
from resettle.translate import lazy_gettext as _l

# --- numbers, in one place -------------------------------------------------------------------

#: The prefix of each type's number (文号): 东征签催〔2026〕15号. Change the wording here only.
NUMBER_PREFIXES: dict[NoticeType, str] = {
    NoticeType.SIGNING: "东征签催",
    NoticeType.VACATING: "东征腾通",
    NoticeType.SELECTION: "东征选通",
    NoticeType.HANDOVER: "东征交通",
    NoticeType.ALLOWANCE: "东征过发",
    NoticeType.SUPERVISION: "东督办",
}
NUMBER_FORMAT = "{prefix}〔{year}〕{sequence}号"

NOTICE_TYPE_LABELS = {
    NoticeType.SIGNING: _l("Signing reminder"),
    NoticeType.VACATING: _l("Vacating notice"),
    NoticeType.SELECTION: _l("Flat selection notice"),
    NoticeType.HANDOVER: _l("Handover notice"),
    NoticeType.ALLOWANCE: _l("Allowance payment notice"),
    NoticeType.SUPERVISION: _l("Supervision order"),
}
#: The types a caseworker issues to a household.
HOUSEHOLD_TYPES = (
    NoticeType.SIGNING,
    NoticeType.VACATING,
    NoticeType.SELECTION,
    NoticeType.HANDOVER,
    NoticeType.ALLOWANCE,
)
#: The PDF template of each type: templates/notices/pdf/<name>.html (plain HTML to edit).
TEMPLATES = {
    NoticeType.SIGNING: "notices/pdf/signing.html",
    NoticeType.VACATING: "notices/pdf/vacating.html",
    NoticeType.SELECTION: "notices/pdf/selection.html",
    NoticeType.HANDOVER: "notices/pdf/handover.html",
    NoticeType.ALLOWANCE: "notices/pdf/allowance.html",
    NoticeType.SUPERVISION: "supervision/pdf/order.html",
}
DOCUMENT_TEMPLATE = "notices/pdf/document.html"

#: Check codes: 8 characters without the look-alikes 0/O and 1/I (about 40 bits).
CHECK_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CHECK_CODE_LENGTH = 8
MAX_BATCH = 2000


def format_number(notice_type: NoticeType, year: int, sequence: int) -> str:
    """The printed number of a notice, e.g. 东征签催〔2026〕15号."""
    return NUMBER_FORMAT.format(
        prefix=NUMBER_PREFIXES[NoticeType(notice_type)], year=year, sequence=sequence
    )


def begin_numbering(session: Session) -> None:
    """Open the transaction a notice is issued in; on SQLite take the write lock at BEGIN
    (BEGIN IMMEDIATE) so concurrent issuers queue instead of failing with "database is
    locked". Call it before the transaction reads anything (as sites.begin_allocation)."""
    begin_write(session, must_open=True)


def next_sequences(session: Session, notice_type: NoticeType, year: int, count: int = 1) -> int:
    """Reserve `count` consecutive numbers of a type and year; returns the first.

    One atomic UPDATE … RETURNING on the counter row: PostgreSQL keeps the row locked until the
    transaction ends, so a concurrent issuer waits and then continues after our numbers; on
    SQLite the write lock does the same. A rollback gives the numbers back (no gaps).
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(NoticeSequence)
        .values(type=NoticeType(notice_type).value, year=year, last_number=0)
        .on_conflict_do_nothing(index_elements=["type", "year"])
    )
    last = session.execute(
        sa.update(NoticeSequence)
        .where(NoticeSequence.type == NoticeType(notice_type), NoticeSequence.year == year)
        .values(last_number=NoticeSequence.last_number + count)
        .returning(NoticeSequence.last_number)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    return last - count + 1


def new_check_code() -> str:
    """A random check code printed on the notice and asked for by /public/verify."""
    return "".join(secrets.choice(CHECK_CODE_ALPHABET) for _ in range(CHECK_CODE_LENGTH))


def verify_url(number: str, check_code: str) -> str:
    """The public address that confirms a notice (number and check code in the query)."""
    query = {"number": number, "code": check_code}
    if has_request_context():
        if "public.verify" in current_app.view_functions:
            try:
                return url_for("public.verify", _external=True, **query)
            except BuildError:
                pass
        base = request.host_url
    else:
        base = current_app.config.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000"
    return f"{base.rstrip('/')}/public/verify?{urlencode(query)}"


def qr_png(text: str) -> bytes:
    """A QR code of `text` as a small PNG (one pixel a module; the PDF scales it crisply).

    The mask pattern is fixed: choosing the "best" of eight took 80% of the time and makes no
    difference to a phone's camera at this size.
    """
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=1, border=4, mask_pattern=2)
    code.add_data(text)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer, format="PNG")
    return buffer.getvalue()


def qr_data_uri(text: str) -> str:
    return "data:image/png;base64," + base64.b64encode(qr_png(text)).decode("ascii")


# --- dates as printed ------------------------------------------------------------------------


def chinese_date(value: date | None) -> str:
    """2026年11月3日, as official documents write dates."""
    if value is None:
        return ""
    return f"{value.year}年{value.month}月{value.day}日"


def chinese_datetime(value: datetime) -> str:
    return f"{chinese_date(value.date())}{value.hour}时{value.minute:02d}分"


# --- guards ----------------------------------------------------------------------------------


def _deadline(
    deadlines: dict[Stage, PlanDeadline], household: Household, stage: Stage, what: str
) -> PlanDeadline:
    due = deadlines.get(stage)
    if due is None:
        raise RuleViolation(
            _(
                "No %(stage)s deadline is set for household %(case)s (in the plan or on the "
                "case): the %(notice)s needs one.",
                stage=stage_label(stage),
                case=household.case_number,
                notice=what,
            ),
            "type",
        )
    return due


@dataclass
class NoticeInput:
    """What a caseworker adds when issuing: the selection time of a selection notice."""

    selection_at: datetime | None = None


def check_notice(
    session: Session,
    household: Household,
    notice_type: NoticeType,
    data: NoticeInput | None = None,
    *,
    today: date | None = None,
) -> dict[Stage, PlanDeadline]:
    """Refuse a notice the household's case does not call for; returns its deadlines."""
    notice_type = NoticeType(notice_type)
    data = data or NoticeInput()
    today = today or clock.today()
    what = str(NOTICE_TYPE_LABELS[notice_type])
    if notice_type not in HOUSEHOLD_TYPES:
        raise RuleViolation(_("This kind of notice cannot be issued here."), "type")
    rank = stages.rank(household.stage)
    case = household.case_number
    deadlines = household_deadlines(session, household)
    if notice_type == NoticeType.SIGNING:
        if rank >= stages.rank(Stage.SIGNED):
            raise RuleViolation(
                _("Household %(case)s has signed already: no signing reminder.", case=case),
                "type",
            )
        _deadline(deadlines, household, Stage.SIGNED, what)
    elif notice_type == NoticeType.VACATING:
        if rank < stages.rank(Stage.SIGNED):
            raise RuleViolation(
                _(
                    "Household %(case)s has not signed yet: a vacating notice follows signing.",
                    case=case,
                ),
                "type",
            )
        if rank >= stages.rank(Stage.VACATED):
            raise RuleViolation(
                _("Household %(case)s has vacated the house already.", case=case), "type"
            )
        _deadline(deadlines, household, Stage.VACATED, what)
    elif notice_type == NoticeType.SELECTION:
        if household.compensation_mode not in SWAP_MODES:
            raise RuleViolation(
                _(
                    "Household %(case)s is not compensated with a flat: no selection notice.",
                    case=case,
                ),
                "type",
            )
        if household.selection_order is None:
            raise RuleViolation(
                _(
                    "Household %(case)s has no selection order number yet: enter it first.",
                    case=case,
                ),
                "type",
            )
        if rank >= stages.rank(Stage.SELECTED):
            raise RuleViolation(
                _("Household %(case)s has selected its flat already.", case=case), "type"
            )
        if rank < stages.rank(Stage.VACATED):
            raise RuleViolation(
                _(
                    "Household %(case)s has not vacated yet: no selection before vacating.",
                    case=case,
                ),
                "type",
            )
        if data.selection_at is None:
            raise RuleViolation(_("Enter the date and time of the selection."), "selection_at")
        if data.selection_at.date() < today:
            raise RuleViolation(_("The selection time cannot be in the past."), "selection_at")
    elif notice_type == NoticeType.HANDOVER:
        if rank >= stages.rank(Stage.HANDED_OVER):
            raise RuleViolation(
                _("Household %(case)s has received its flat already.", case=case), "type"
            )
        if not household.units:
            raise RuleViolation(_("No flat is allocated to household %(case)s.", case=case), "type")
        unfinished = [u.label for u in household.units if not u.building.complete]
        if unfinished:
            raise RuleViolation(
                _(
                    "%(flats)s is not complete yet and cannot be handed over.",
                    flats="、".join(unfinished),
                ),
                "type",
            )
        _deadline(deadlines, household, Stage.HANDED_OVER, what)
    elif notice_type == NoticeType.ALLOWANCE:
        _allowance_due(session, household, today)
    return deadlines


def _allowance_due(session: Session, household: Household, today: date) -> AllowanceStatement:
    """The allowance statement an allowance notice prints; refused when nothing is due."""
    case = household.case_number
    if household.compensation_mode not in SWAP_MODES:
        raise RuleViolation(
            _(
                "Household %(case)s is not compensated with a flat: it gets no temporary "
                "allowance.",
                case=case,
            ),
            "type",
        )
    if stages.rank(household.stage) < stages.rank(Stage.VACATED):
        raise RuleViolation(
            _(
                "Household %(case)s has not vacated yet: the temporary allowance starts on "
                "vacating.",
                case=case,
            ),
            "type",
        )
    statement = allowance_statement(session, household, as_of=today)
    if statement is None:
        raise RuleViolation(
            _(
                "Project %(project)s has no compensation rules yet: the allowance cannot be "
                "computed.",
                project=household.project.code,
            ),
            "type",
        )
    if statement.due <= 0:
        raise RuleViolation(
            _(
                "Household %(case)s has been paid all the allowance accrued so far "
                "(%(amount)s yuan): there is nothing to notify.",
                case=case,
                amount=format_money(statement.accrued),
            ),
            "type",
        )
    return statement


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
    }


def household_notice_details(
    household: Household,
    notice_type: NoticeType,
    deadlines: dict[Stage, PlanDeadline],
    data: NoticeInput,
    *,
    statement: AllowanceStatement | None = None,
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
    }
    stage = {
        NoticeType.SIGNING: Stage.SIGNED,
        NoticeType.VACATING: Stage.VACATED,
        NoticeType.HANDOVER: Stage.HANDED_OVER,
    }.get(notice_type)
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


def lacking_glyphs(details: dict[str, Any]) -> str:
    """Characters of the name and address the PDF font cannot print (empty when all print)."""
    text = f"{details.get('head_name', '')}{details.get('house_address', '')}"
    return "".join(sorted(missing_glyphs(text)))


# --- rendering and archiving -----------------------------------------------------------------


@dataclass
class RenderedDocument:
    pdf: bytes
    pages: int
    first_pages: list[int]  # the first page of each notice, in order


def render_notices(
    entries: Sequence[dict[str, Any]], *, title: str, made_at: datetime
) -> RenderedDocument:
    """One PDF/A-3b document with a page (or more) per notice; entries are plain dicts with
    `template` and `n` (the notice's data). Laid out once, with the shared FontConfiguration."""
    with in_chinese():  # an archived notice is a Chinese document, whoever issues it
        html = render_html(DOCUMENT_TEMPLATE, title=title, made_at=made_at, entries=entries)
    app = current_app._get_current_object()
    with RENDER_LOCK:
        document = HTML(
            string=html,
            base_url=Path(app.static_folder).resolve().as_uri() + "/",
            url_fetcher=url_fetcher_for_app(app),
        ).render(font_config=FONT_CONFIG, pdf_variant=PDF_VARIANT_ARCHIVE)
        pdf = document.write_pdf(pdf_variant=PDF_VARIANT_ARCHIVE)
    starts: dict[str, int] = {}
    for page_number, page in enumerate(document.pages, start=1):
        for anchor in page.anchors:
            if anchor.startswith("notice-"):
                starts.setdefault(anchor, page_number)
    first_pages = [starts.get(f"notice-{index}", 1) for index in range(len(entries))]
    return RenderedDocument(pdf, len(document.pages), first_pages)


def archive_document(
    session: Session, rendered: RenderedDocument, *, count: int, user: User | None
) -> NoticeDocument:
    """Keep the PDF bytes and their SHA-256 (the reprint returns exactly these bytes)."""
    document = NoticeDocument(
        pdf=rendered.pdf,
        sha256=hashlib.sha256(rendered.pdf).hexdigest(),
        size=len(rendered.pdf),
        pages=rendered.pages,
        notice_count=count,
        created_by_id=user.id if user else None,
    )
    session.add(document)
    return document


def _page_counts(first_pages: list[int], total: int) -> list[int]:
    ends = first_pages[1:] + [total + 1]
    return [max(end - start, 1) for start, end in zip(first_pages, ends, strict=True)]


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
    drafts = []
    for offset, (details, household_id) in enumerate(zip(details_list, household_ids, strict=True)):
        sequence = first + offset
        number = format_number(notice_type, issued_on.year, sequence)
        code = new_check_code()
        url = verify_url(number, code)
        details.update(
            number=number,
            check_code=code,
            issued_on=issued_on.isoformat(),
            issued_on_text=chinese_date(issued_on),
            verify_url=url,
        )
        drafts.append(
            Draft(notice_type, issued_on.year, sequence, number, code, details, household_id)
        )
    return drafts


def store_notices(
    session: Session,
    drafts: Sequence[Draft],
    *,
    made_at: datetime,
    title: str,
    user: User | None,
    issued_on: date,
) -> list[Notice]:
    """Render the drafts as one document, archive it, and save one Notice row per draft."""
    entries = [
        {
            "template": TEMPLATES[d.notice_type],
            "n": d.details,
            "qr": qr_data_uri(d.details["verify_url"]),
        }
        for d in drafts
    ]
    rendered = render_notices(entries, title=title, made_at=made_at)
    document = archive_document(session, rendered, count=len(drafts), user=user)
    counts = _page_counts(rendered.first_pages, rendered.pages)
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
    deadlines = check_notice(session, household, notice_type, data, today=today)
    details = household_notice_details(
        household,
        notice_type,
        deadlines,
        data,
        statement=_statement(session, household, notice_type, today),
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


def issue_batch(
    session: Session,
    households: Sequence[Household],
    notice_type: NoticeType,
    data: BatchInput | None = None,
    *,
    user: User | None,
    today: date | None = None,
) -> NoticeDocument:
    """Issue one notice per household as one PDF document (consecutive numbers in the order of
    the households; selection notices in selection order). Refused as a whole, naming the
    households, when any of them cannot get this notice."""
    notice_type = NoticeType(notice_type)
    data = data or BatchInput()
    today = today or clock.today()
    if not households:
        raise RuleViolation(_("Choose at least one household."), "households")
    if len(households) > MAX_BATCH:
        raise RuleViolation(_("At most %(n)d notices in one batch.", n=MAX_BATCH), "households")
    ordered = list(households)
    if notice_type == NoticeType.SELECTION:
        ordered.sort(key=lambda h: (h.selection_order or 0, h.case_number))
    else:
        ordered.sort(key=lambda h: h.case_number)
    details_list = []
    refused: list[str] = []
    for index, household in enumerate(ordered):
        single = NoticeInput()
        if data.selection_at is not None:
            single.selection_at = data.selection_at + timedelta(
                minutes=index * max(data.slot_minutes, 0)
            )
        try:
            deadlines = check_notice(session, household, notice_type, single, today=today)
        except RuleViolation as exc:
            if exc.field == "selection_at":
                raise
            refused.append(exc.message)
            continue
        details_list.append(
            household_notice_details(
                household,
                notice_type,
                deadlines,
                single,
                statement=_statement(session, household, notice_type, today),
            )
        )
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
    drafts = draft_notices(
        session, notice_type, details_list, [h.id for h in ordered], issued_on=today
    )
    with in_chinese():
        title = str(NOTICE_TYPE_LABELS[notice_type])
    notices = store_notices(
        session,
        drafts,
        made_at=utcnow(),
        title=title,
        user=user,
        issued_on=today,
    )
    return notices[0].document


# --- reading ---------------------------------------------------------------------------------


def notice_pdf(notice: Notice) -> bytes:
    """The archived PDF the notice was issued in, byte for byte (never rendered again)."""
    return notice.document.pdf


def notice_by_number(session: Session, number: str) -> Notice | None:
    return session.scalar(sa.select(Notice).where(Notice.number == number.strip()))


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


def verify_notice(session: Session, number: str, code: str) -> Notice | None:
    """The notice with this number when the check code matches, else None (for /public/verify:
    one answer whatever was wrong). Codes are compared in constant time, spaces and case aside."""
    notice = notice_by_number(session, number or "")
    given = "".join((code or "").split()).upper()
    if notice is None or not hmac.compare_digest(given.encode(), notice.check_code.encode()):
        return None
    return notice


def document_is_intact(document: NoticeDocument) -> bool:
    """The archived bytes still have the SHA-256 recorded when they were issued."""
    return hashlib.sha256(document.pdf).hexdigest() == document.sha256
