"""Disclosures (信息公开): the public allowlist, frozen snapshots, approval, withdrawal.

What may be shown to the public is decided here and only here: `public_row` builds a row from
the allowlist of DOMAIN.md (masked name, case number, location to the street, areas,
compensation lines and total, the flat) and nothing else. A disclosure keeps those rows as they
were when it was prepared; the public pages show the frozen rows, never live data.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from resettle import clock
from resettle.auth.models import Role, User
from resettle.chinese import chinese, in_chinese
from resettle.db import utcnow
from resettle.disclosure.models import (
    Disclosure,
    DisclosureKind,
    DisclosurePdf,
    DisclosureStatus,
)
from resettle.errors import RuleViolation
from resettle.funds.compensation import Line
from resettle.funds.services import ADJUSTMENT_PREFIX, household_money
from resettle.households.models import CompensationMode, Household, Stage
from resettle.households.stages import STAGE_ORDER
from resettle.i18n import MODE_LABELS, format_money
from resettle.pdf import render_pdf
from resettle.privacy import mask_name
from resettle.projects.models import ExpropriationProject
from resettle.sites.models import Building, Unit
from resettle.translate import gettext as _
from resettle.translate import lazy_gettext as _l

KIND_LABELS = {
    DisclosureKind.SURVEY: _l("Survey results"),
    DisclosureKind.COMPENSATION: _l("Compensation per household"),
    DisclosureKind.SELECTION: _l("Flat selection results"),
}
STATUS_LABELS = {
    DisclosureStatus.DRAFT: _l("Awaiting approval"),
    DisclosureStatus.PUBLISHED: _l("Published"),
    DisclosureStatus.WITHDRAWN: _l("Withdrawn"),
}
#: The columns of each kind's table, as printed (the snapshot is a Chinese public document).
COLUMNS: dict[DisclosureKind, list[tuple[str, str]]] = {
    DisclosureKind.SURVEY: [
        ("case_number", "案卷号"),
        ("name", "被征收人"),
        ("location", "房屋坐落"),
        ("legal_area", "合法面积（m²）"),
        ("unregistered_area", "未登记面积（m²）"),
        ("house_use", "用途"),
    ],
    DisclosureKind.COMPENSATION: [
        ("case_number", "案卷号"),
        ("name", "被征收人"),
        ("location", "房屋坐落"),
        ("legal_area", "合法面积（m²）"),
        ("mode", "补偿方式"),
        ("lines", "补偿明细（元）"),
        ("total", "补偿合计（元）"),
    ],
    DisclosureKind.SELECTION: [
        ("selection_order", "选房顺序号"),
        ("case_number", "案卷号"),
        ("name", "被征收人"),
        ("flat", "所选安置房"),
        ("flat_area", "建筑面积（m²）"),
    ],
}
#: The households each kind lists: every surveyed one, those who signed, those who chose.
_FROM_STAGE = {
    DisclosureKind.SURVEY: Stage.SURVEYED,
    DisclosureKind.COMPENSATION: Stage.SIGNED,
    DisclosureKind.SELECTION: Stage.SELECTED,
}
MAX_PERIOD_DAYS = 366

# An address down to its street: 东城区解放路123号4单元 → 东城区解放路. The cut is after the last
# street word (路 街 巷 弄 道 大道 村 …) before the first digit; with none, before the first digit.
_STREET_END = re.compile(r"^(.*(?:大道|大街|路|街|巷|弄|胡同|里|道|村|组|社区))")
_FIRST_DIGIT = re.compile(r"[0-9０-９一二三四五六七八九十百]+\s*(号|弄|巷|栋|幢|单元|室|组)")


def street_of(address: str | None) -> str:
    """The address down to the street, without the house number and anything after it."""
    text = "".join((address or "").split())
    number = _FIRST_DIGIT.search(text) or re.search(r"[0-9０-９]", text)
    head = text[: number.start()] if number else text
    match = _STREET_END.match(head)
    street = match.group(1) if match else head
    return street or "—"


def _area(value: Any) -> str:
    return f"{value:.2f}" if value is not None else ""


def public_label(line: Line) -> str:
    """A line's label as published: a free line the office wrote (其他补偿/扣减) is shown by its
    kind only, as its text may say more about the household than the public should read."""
    if line.key.startswith(ADJUSTMENT_PREFIX):
        return chinese("Other compensation") if line.amount > 0 else chinese("Other deduction")
    return line.label


def public_row(
    kind: DisclosureKind, household: Household, session: Session, as_of: date
) -> dict[str, Any]:
    """One household as the public may see it: only the allowlisted fields (DOMAIN.md)."""
    row: dict[str, Any] = {
        "case_number": household.case_number,
        "name": mask_name(household.head_name),
        "location": street_of(household.house_address),
    }
    if kind == DisclosureKind.SURVEY:
        row["legal_area"] = _area(household.legal_area)
        row["unregistered_area"] = _area(household.unregistered_area)
        row["house_use"] = household.house_use or ""
    elif kind == DisclosureKind.COMPENSATION:
        row["legal_area"] = _area(household.legal_area)
        mode = household.compensation_mode
        row["mode"] = str(MODE_LABELS[mode]) if mode else ""
        figures = household_money(session, household, as_of=as_of)
        lines = figures.lines if figures else []
        row["lines"] = [
            {"label": public_label(line), "amount": format_money(line.amount)} for line in lines
        ]
        row["total"] = format_money(figures.total) if figures else ""
    elif kind == DisclosureKind.SELECTION:
        row = {"selection_order": household.selection_order, **row}
        row.pop("location")
        units = sorted(household.units, key=lambda u: u.id)
        row["flat"] = "；".join(f"{u.building.site.name}{u.label}" for u in units)
        row["flat_area"] = "；".join(_area(u.area) for u in units)
    return row


def snapshot_rows(
    session: Session, project: ExpropriationProject, kind: DisclosureKind, as_of: date
) -> list[dict[str, Any]]:
    """The rows a disclosure of this kind would freeze today, in Chinese."""
    first = STAGE_ORDER.index(_FROM_STAGE[kind])
    query = (
        sa.select(Household)
        .where(Household.project_id == project.id, Household.stage.in_(STAGE_ORDER[first:]))
        .options(
            selectinload(Household.steps),
            selectinload(Household.units).selectinload(Unit.building).selectinload(Building.site),
        )
    )
    if kind == DisclosureKind.SELECTION:
        query = query.where(
            Household.compensation_mode.in_([CompensationMode.SWAP, CompensationMode.MIXED])
        ).order_by(Household.selection_order, Household.case_number)
    else:
        query = query.order_by(Household.case_number)
    with in_chinese():
        return [public_row(kind, h, session, as_of) for h in session.scalars(query)]


def rows_digest(rows: list[dict[str, Any]]) -> str:
    """SHA-256 of the rows as canonical JSON: the audit trail and the public page show it."""
    text = json.dumps(rows, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class DisclosureData:
    kind: DisclosureKind
    title: str
    period_start: date
    period_end: date


def prepare_disclosure(
    session: Session,
    project: ExpropriationProject,
    data: DisclosureData,
    *,
    user: User,
    today: date | None = None,
) -> Disclosure:
    """Freeze today's public rows of a kind as a draft waiting for approval."""
    today = today or clock.today()
    title = (data.title or "").strip()
    if not title:
        raise RuleViolation(_("Give the disclosure a title."), "title")
    if len(title) > 200:
        raise RuleViolation(_("The title is too long (at most 200 characters)."), "title")
    _check_period(data.period_start, data.period_end, today)
    kind = DisclosureKind(data.kind)
    rows = snapshot_rows(session, project, kind, today)
    if not rows:
        raise RuleViolation(
            _(
                "No household of project %(project)s has reached this stage yet: there is "
                "nothing to disclose.",
                project=project.code,
            ),
            "kind",
        )
    disclosure = Disclosure(
        project=project,
        kind=kind,
        title=title,
        period_start=data.period_start,
        period_end=data.period_end,
        status=DisclosureStatus.DRAFT,
        rows=rows,
        row_count=len(rows),
        snapshot_sha256=rows_digest(rows),
        snapshot_as_of=today,
        prepared_by_id=user.id,
    )
    session.add(disclosure)
    session.flush()
    return disclosure


def _check_period(start: date | None, end: date | None, today: date) -> None:
    if start is None or end is None:
        raise RuleViolation(_("Enter the first and the last day of the period."), "period_start")
    if start < today:
        raise RuleViolation(_("The period cannot start in the past."), "period_start")
    if end < start:
        raise RuleViolation(_("The period cannot end before it starts."), "period_end")
    if (end - start) > timedelta(days=MAX_PERIOD_DAYS):
        raise RuleViolation(
            _("A disclosure period is at most %(n)d days.", n=MAX_PERIOD_DAYS), "period_end"
        )


APPROVERS = (Role.SUPERVISOR, Role.ADMIN)


def approve_disclosure(
    session: Session, disclosure: Disclosure, *, user: User, today: date | None = None
) -> Disclosure:
    """Approve a draft (someone other than who prepared it): it is published for its period."""
    today = today or clock.today()
    if user.role not in APPROVERS:
        raise RuleViolation(_("Only the supervision office approves disclosures."), "status")
    if disclosure.status != DisclosureStatus.DRAFT:
        raise RuleViolation(_("Only a draft can be approved."), "status")
    if disclosure.prepared_by_id == user.id:
        raise RuleViolation(
            _("You prepared this disclosure: someone else must approve it."), "status"
        )
    if disclosure.period_end < today:
        raise RuleViolation(
            _("Its period is over: prepare the disclosure again with a new period."), "status"
        )
    now = utcnow()
    disclosure.status = DisclosureStatus.PUBLISHED
    disclosure.approved_by_id = user.id
    disclosure.approved_at = now
    disclosure.published_at = now
    session.flush()
    return disclosure


def withdraw_disclosure(
    session: Session, disclosure: Disclosure, *, reason: str, user: User
) -> Disclosure:
    """Take a published disclosure down; its page then says it was withdrawn, when and why."""
    reason = (reason or "").strip()
    if user.role not in APPROVERS:
        raise RuleViolation(_("Only the supervision office withdraws disclosures."), "reason")
    if disclosure.status != DisclosureStatus.PUBLISHED:
        raise RuleViolation(_("Only a published disclosure can be withdrawn."), "reason")
    if not reason:
        raise RuleViolation(
            _("Give the reason for the withdrawal: it is shown publicly."), "reason"
        )
    if len(reason) > 500:
        raise RuleViolation(_("The reason is too long (at most 500 characters)."), "reason")
    disclosure.status = DisclosureStatus.WITHDRAWN
    disclosure.withdrawn_by_id = user.id
    disclosure.withdrawn_at = utcnow()
    disclosure.withdrawal_reason = reason
    session.flush()
    return disclosure


def discard_draft(session: Session, disclosure: Disclosure, *, user: User) -> None:
    """Delete a draft that was not approved (audited like every delete)."""
    if disclosure.status != DisclosureStatus.DRAFT:
        raise RuleViolation(_("Only a draft can be discarded; withdraw a published one."), "status")
    if user.role not in APPROVERS and user.id != disclosure.prepared_by_id:
        raise RuleViolation(_("Only who prepared it or the supervision office can discard it."))
    session.delete(disclosure)
    session.flush()


def is_public(disclosure: Disclosure, today: date) -> bool:
    """Shown on the public pages: published or withdrawn, and its period has begun and not
    ended (a withdrawn one shows only its notice of withdrawal)."""
    return (
        disclosure.status in (DisclosureStatus.PUBLISHED, DisclosureStatus.WITHDRAWN)
        and disclosure.period_start <= today <= disclosure.period_end
        and disclosure.project.published
    )


def public_disclosures(session: Session, project_id: int, today: date) -> list[Disclosure]:
    """The project's disclosures in their period today (published or withdrawn)."""
    return list(
        session.scalars(
            sa.select(Disclosure)
            .where(
                Disclosure.project_id == project_id,
                Disclosure.status.in_([DisclosureStatus.PUBLISHED, DisclosureStatus.WITHDRAWN]),
                Disclosure.period_start <= today,
                Disclosure.period_end >= today,
            )
            .order_by(Disclosure.period_start.desc(), Disclosure.id.desc())
        )
    )


def disclosures_for_staff(session: Session, project_id: int | None = None) -> list[Disclosure]:
    query = sa.select(Disclosure).options(selectinload(Disclosure.project))
    if project_id is not None:
        query = query.where(Disclosure.project_id == project_id)
    return list(session.scalars(query.order_by(Disclosure.id.desc()).limit(500)))


# --- the PDF ---------------------------------------------------------------------------------


def render_disclosure_pdf(disclosure: Disclosure) -> bytes:
    """The disclosure as printed: its frozen rows only (already masked when frozen), in Chinese."""
    with in_chinese():
        return render_pdf(
            "public/disclosure_pdf.html",
            title=disclosure.title,
            project_name=disclosure.project.name,
            kind_label=str(KIND_LABELS[disclosure.kind]),
            columns=COLUMNS[disclosure.kind],
            rows=disclosure.rows,
            period_start=disclosure.period_start,
            period_end=disclosure.period_end,
            as_of=disclosure.snapshot_as_of,
            sha256=disclosure.snapshot_sha256,
        )


def stored_pdf(session: Session, disclosure_id: int) -> DisclosurePdf | None:
    """The disclosure's stored PDF row (its bytes load when read), or None before it is made."""
    return session.get(DisclosurePdf, disclosure_id)


def store_disclosure_pdf(
    session: Session, disclosure: Disclosure, *, user: User | None = None
) -> DisclosurePdf:
    """Render a published disclosure's PDF once and keep it with its SHA-256; one made already
    is kept as it is (the public has been served those bytes)."""
    existing = stored_pdf(session, disclosure.id)
    if existing is not None:
        return existing
    if disclosure.status == DisclosureStatus.DRAFT:
        raise RuleViolation(_("A draft has no PDF: it is made when the disclosure is published."))
    data = render_disclosure_pdf(disclosure)
    row = DisclosurePdf(
        disclosure_id=disclosure.id,
        pdf=data,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        rendered_by_id=user.id if user is not None else None,
    )
    session.add(row)
    session.flush()
    return row


def disclosures_missing_pdf(session: Session) -> list[Disclosure]:
    """Published disclosures without a stored PDF (published before PDFs were kept, or whose
    job failed)."""
    return list(
        session.scalars(
            sa.select(Disclosure)
            .where(
                Disclosure.status == DisclosureStatus.PUBLISHED,
                ~sa.exists().where(DisclosurePdf.disclosure_id == Disclosure.id),
            )
            .order_by(Disclosure.id)
        )
    )
