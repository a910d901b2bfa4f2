"""Notice screens: issue to a household, issue a batch, list, notice page, reprint."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload

from resettle import clock
from resettle.audit.access import audited_download
from resettle.auth.models import Role
from resettle.auth.policy import logged_in, role_required
from resettle.db import database_int
from resettle.documents.models import ArchivedDocument
from resettle.errors import RuleViolation
from resettle.extensions import db
from resettle.funds.services import allowance_statement
from resettle.households.models import CompensationMode, Household, Stage
from resettle.jobs.services import job_page, submit_job
from resettle.notices import bp
from resettle.notices.forms import BatchForm, IssueNoticeForm, VoidForm
from resettle.notices.guards import BY_AGREEMENT, BY_NOTICE_PERIOD
from resettle.notices.jobs import batch_params
from resettle.notices.models import Notice, NoticeType
from resettle.notices.services import (
    HOUSEHOLD_TYPES,
    MAX_BATCH,
    NOTICE_TYPE_LABELS,
    VOIDERS,
    BatchInput,
    NoticeInput,
    asked_deadline,
    begin_numbering,
    check_batch,
    check_notice,
    document_is_intact,
    glyph_warning,
    issue_notice,
    lacking_glyphs,
    notice_pdf,
    notices_for_household,
    void_notice,
)
from resettle.projects.services import all_projects
from resettle.sites.models import Building, Unit
from resettle.translate import gettext as _

ISSUERS = (Role.ADMIN, Role.CASEWORKER)
LIST_SIZE = 100


@bp.app_context_processor
def notice_labels() -> dict[str, Any]:
    """The notice type names for every template (the household page's notices section too)."""
    return {"NOTICE_TYPE_LABELS": NOTICE_TYPE_LABELS}


def _type_choices() -> list[tuple[str, str]]:
    return [(t.value, str(NOTICE_TYPE_LABELS[t])) for t in HOUSEHOLD_TYPES]


def pdf_response(data: bytes, filename: str) -> Response:
    """The archived bytes as they are, shown inline."""
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f"inline; filename={filename}"},
    )


def _warn_glyphs(notices: list[Notice]) -> None:
    for notice in notices:
        warning = glyph_warning(notice.details)
        if warning:
            flash(warning, "error")


@bp.route("/")
@logged_in
def index():
    query = sa.select(Notice).options(selectinload(Notice.household), selectinload(Notice.document))
    notice_type = request.args.get("type", "")
    if notice_type in NoticeType._value2member_map_:
        query = query.where(Notice.type == NoticeType(notice_type))
    year = request.args.get("year", type=database_int)
    if year:
        query = query.where(Notice.year == year)
    document_id = request.args.get("document", type=database_int)
    document = db.session.get(ArchivedDocument, document_id) if document_id else None
    if document is not None:
        query = query.where(Notice.document_id == document.id)
    search = request.args.get("q", "").strip()[:60]
    if search:
        query = query.where(
            sa.or_(
                Notice.number.contains(search, autoescape=True),
                Notice.household.has(Household.case_number.contains(search, autoescape=True)),
                Notice.household.has(Household.head_name.contains(search, autoescape=True)),
            )
        )
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    page = max(request.args.get("page", 1, type=database_int) or 1, 1)
    notices = db.session.scalars(
        query.order_by(Notice.issued_at.desc(), Notice.id.desc())
        .limit(LIST_SIZE)
        .offset((page - 1) * LIST_SIZE)
    ).all()
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "notices/index.html",
        notices=notices,
        total=total,
        page=page,
        pages=max((total + LIST_SIZE - 1) // LIST_SIZE, 1),
        args=args,
        document=document,
        types=list(NoticeType),
        selected_type=notice_type,
        year=year,
        search=search,
        can_issue=current_user.role in ISSUERS,
    )


@bp.route("/issue/<int:household_id>", methods=["GET", "POST"])
@role_required(*ISSUERS)
def issue(household_id: int):
    household = db.session.get(Household, household_id) or abort(404)
    form = IssueNoticeForm()
    form.type.choices = _type_choices()
    if request.method == "GET" and request.args.get("type") in NoticeType._value2member_map_:
        form.type.data = request.args["type"]
    if form.validate_on_submit():
        # Numbering opens its own transaction (on SQLite with the write lock from the start).
        db.session.rollback()
        begin_numbering(db.session)
        household = db.session.get(Household, household_id) or abort(404)
        try:
            notice = issue_notice(
                db.session,
                household,
                NoticeType(form.type.data),
                NoticeInput(
                    selection_at=form.selection_at.data,
                    deadline=form.deadline.data,
                    again=form.again.data,
                ),
                user=current_user,
            )
        except RuleViolation as exc:
            db.session.rollback()
            target = {
                "selection_at": form.selection_at,
                "deadline": form.deadline,
                "again": form.again,
            }.get(exc.field or "", form.type)
            target.errors = [*target.errors, exc.message]
        else:
            number, notice_id = notice.number, notice.id
            db.session.commit()
            flash(_("Notice %(number)s is issued and archived.", number=number), "success")
            _warn_glyphs([notice])
            return redirect(url_for("notices.detail", notice_id=notice_id))
    eligible, asks = {}, {}
    today = clock.today()
    for notice_type in HOUSEHOLD_TYPES:
        try:
            deadlines = check_notice(db.session, household, notice_type, NoticeInput(), today=today)
            eligible[notice_type.value] = None
        except RuleViolation as exc:
            eligible[notice_type.value] = None if exc.field == "selection_at" else exc.message
            continue
        try:
            due = asked_deadline(
                db.session, household, notice_type, deadlines, NoticeInput(), today
            )
            if due is None:
                asks[notice_type.value] = ""
            elif due.node == BY_AGREEMENT:
                asks[notice_type.value] = _(
                    "asks for %(date)s (the moving deadline of the household's agreement)",
                    date=due.deadline.isoformat(),
                )
            elif due.node != BY_NOTICE_PERIOD:
                asks[notice_type.value] = _(
                    "asks for %(date)s (the plan's deadline)", date=due.deadline.isoformat()
                )
            else:
                asks[notice_type.value] = _(
                    "asks for %(date)s: the plan's date has passed, so %(n)s working days from "
                    "today (the project's notice period), unless you enter another date",
                    date=due.deadline.isoformat(),
                    n=household.project.notice_workdays,
                )
        except RuleViolation as exc:
            asks[notice_type.value] = exc.message
    return render_template(
        "notices/issue.html",
        household=household,
        form=form,
        eligible=eligible,
        asks=asks,
        labels=NOTICE_TYPE_LABELS,
        notices=notices_for_household(db.session, household.id),
    )


def _candidates(project_id: int, notice_type: NoticeType) -> list[Household]:
    """The project's households at the stage this notice is for (the issue checks the rest)."""
    query = (
        sa.select(Household)
        .where(Household.project_id == project_id)
        .options(
            selectinload(Household.units).selectinload(Unit.building).selectinload(Building.site)
        )
        .order_by(Household.selection_order, Household.case_number)
        .limit(MAX_BATCH)
    )
    if notice_type == NoticeType.SIGNING:
        query = query.where(Household.stage.in_([Stage.SURVEYED, Stage.APPRAISED]))
    elif notice_type == NoticeType.VACATING:
        query = query.where(Household.stage == Stage.SIGNED)
    elif notice_type == NoticeType.SELECTION:
        query = query.where(
            Household.stage.in_([Stage.VACATED, Stage.DEMOLISHED]),
            Household.compensation_mode.in_([CompensationMode.SWAP, CompensationMode.MIXED]),
            Household.selection_order.is_not(None),
        )
    elif notice_type == NoticeType.HANDOVER:
        query = query.where(Household.stage == Stage.SELECTED)
    elif notice_type == NoticeType.ALLOWANCE:
        query = query.where(
            Household.stage.in_(
                [Stage.VACATED, Stage.DEMOLISHED, Stage.SELECTED, Stage.HANDED_OVER]
            ),
            Household.compensation_mode.in_([CompensationMode.SWAP, CompensationMode.MIXED]),
        )
    households = list(db.session.scalars(query))
    if notice_type == NoticeType.HANDOVER:
        households = [
            h for h in households if h.units and all(u.building.complete for u in h.units)
        ]
    if notice_type == NoticeType.ALLOWANCE:  # only those with allowance still to be paid
        today = clock.today()
        households = [
            h
            for h in households
            if (s := allowance_statement(db.session, h, as_of=today)) is not None and s.due > 0
        ]
    return households


@bp.route("/batch", methods=["GET", "POST"])
@role_required(*ISSUERS)
def batch():
    form = BatchForm(formdata=request.form if request.method == "POST" else request.args)
    projects = all_projects()
    form.project.choices = [(p.id, f"{p.code} {p.name}") for p in projects]
    form.type.choices = _type_choices()
    if request.method == "GET" and not request.args:
        form.type.data = NoticeType.SIGNING.value
        form.project.data = projects[0].id if projects else None
    notice_type = (
        NoticeType(form.type.data)
        if form.type.data in NoticeType._value2member_map_
        else NoticeType.SIGNING
    )
    project_id = form.project.data if isinstance(form.project.data, int) else None
    if request.method == "POST" and form.validate():
        chosen = set()
        for value in request.form.getlist("household"):
            try:
                chosen.add(database_int(value))
            except ValueError:
                continue  # not a household of the list
        household_ids = list(
            db.session.scalars(
                sa.select(Household.id).where(
                    Household.id.in_(chosen or {0}), Household.project_id == project_id
                )
            )
        )
        data = BatchInput(
            selection_at=form.selection_at.data,
            slot_minutes=form.slot_minutes.data or 0,
            deadline=form.deadline.data,
            again=form.again.data,
        )
        try:
            check_batch(len(household_ids), data, clock.today())
        except RuleViolation as exc:
            flash(exc.message, "error")
        else:
            job = submit_job(
                "notice_batch",
                title=_(
                    "%(type)s for %(n)d households",
                    type=NOTICE_TYPE_LABELS[notice_type],
                    n=len(household_ids),
                ),
                user=current_user,
                project_id=project_id,
                params=batch_params(project_id, notice_type, household_ids, data),
                total=len(household_ids),
            )
            return job_page(job)
    households = _candidates(project_id, notice_type) if project_id else []
    return render_template(
        "notices/batch.html",
        form=form,
        households=households,
        notice_type=notice_type,
        max_batch=MAX_BATCH,
    )


def _load(notice_id: int) -> Notice:
    return db.session.get(Notice, notice_id) or abort(404)


@bp.route("/<int:notice_id>")
@logged_in
def detail(notice_id: int):
    notice = _load(notice_id)
    return render_template(
        "notices/detail.html",
        notice=notice,
        label=NOTICE_TYPE_LABELS[notice.type],
        intact=document_is_intact(notice.document),
        lacking=lacking_glyphs(notice.details),
        void_form=VoidForm() if current_user.role in VOIDERS and not notice.is_void else None,
    )


@bp.route("/<int:notice_id>/void", methods=["POST"])
@role_required(*VOIDERS)
def void(notice_id: int):
    _load(notice_id)
    form = VoidForm()
    if not form.validate_on_submit():
        flash(_("Give the reason the notice is voided."), "error")
        return redirect(url_for("notices.detail", notice_id=notice_id))
    db.session.rollback()  # (read then write: on SQLite take the write lock at BEGIN)
    begin_numbering(db.session)
    notice = _load(notice_id)
    try:
        void_notice(db.session, notice, form.reason.data, user=current_user)
    except RuleViolation as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        number = notice.number
        db.session.commit()
        flash(_("Notice %(number)s is void.", number=number), "success")
    return redirect(url_for("notices.detail", notice_id=notice_id))


@bp.route("/<int:notice_id>/pdf")
@logged_in
@audited_download("Notice", "notice_id")
def pdf(notice_id: int):
    notice = _load(notice_id)
    return pdf_response(notice_pdf(notice), f"notice-{notice.id}.pdf")


@bp.route("/documents/<int:document_id>/pdf")
@logged_in
@audited_download("ArchivedDocument", "document_id")
def document_pdf(document_id: int):
    document = db.session.get(ArchivedDocument, document_id) or abort(404)
    return pdf_response(document.pdf, f"notices-{document.id}.pdf")
