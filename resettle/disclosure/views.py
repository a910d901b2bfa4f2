"""Disclosure screens for staff: prepare (caseworker), approve and withdraw (supervision)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from resettle import clock
from resettle.auth.models import Role
from resettle.auth.policy import logged_in, role_required
from resettle.db import database_int
from resettle.disclosure import bp
from resettle.disclosure.forms import (
    ApproveForm,
    DiscardForm,
    PrepareForm,
    WithdrawForm,
)
from resettle.disclosure.jobs import submit_disclosure_pdf
from resettle.disclosure.models import Disclosure, DisclosureKind, DisclosureStatus
from resettle.disclosure.services import (
    APPROVERS,
    COLUMNS,
    KIND_LABELS,
    STATUS_LABELS,
    DisclosureData,
    approve_disclosure,
    discard_draft,
    disclosures_for_staff,
    is_public,
    prepare_disclosure,
    stored_pdf,
    withdraw_disclosure,
)
from resettle.errors import RuleViolation
from resettle.extensions import db
from resettle.forms import ButtonForm, show_violation
from resettle.jobs.services import job_page
from resettle.projects.models import ExpropriationProject
from resettle.translate import gettext as _

PREPARERS = (Role.ADMIN, Role.CASEWORKER)
#: Who may start the PDF of a published disclosure that has none (the staff who handle them).
PDF_MAKERS = (Role.ADMIN, Role.CASEWORKER, Role.SUPERVISOR)


def _load(disclosure_id: int) -> Disclosure:
    disclosure = db.session.get(Disclosure, disclosure_id)
    if disclosure is None:
        abort(404)
    return disclosure


@bp.route("/")
@logged_in
def index():
    project_id = request.args.get("project", type=database_int)
    return render_template(
        "disclosure/index.html",
        disclosures=disclosures_for_staff(db.session, project_id),
        kind_labels=KIND_LABELS,
        status_labels=STATUS_LABELS,
        can_prepare=current_user.role in PREPARERS,
        today=clock.today(),
        is_public=is_public,
    )


@bp.route("/new", methods=["GET", "POST"])
@role_required(*PREPARERS)
def new():
    form = PrepareForm()
    projects = list(
        db.session.scalars(sa.select(ExpropriationProject).order_by(ExpropriationProject.code))
    )
    form.project_id.choices = [(p.id, f"{p.code} {p.name}") for p in projects]
    if request.method == "GET":
        form.project_id.data = request.args.get("project", type=database_int)
        form.period_start.data = clock.today()
    if form.validate_on_submit():
        project = db.session.get(ExpropriationProject, form.project_id.data)
        try:
            disclosure = prepare_disclosure(
                db.session,
                project,
                DisclosureData(
                    kind=DisclosureKind(form.kind.data),
                    title=form.title.data,
                    period_start=form.period_start.data,
                    period_end=form.period_end.data,
                ),
                user=current_user,
            )
        except RuleViolation as exc:
            db.session.rollback()
            show_violation(form, exc, "title")
        else:
            disclosure_id = disclosure.id
            db.session.commit()
            flash(
                _("The disclosure is prepared; the supervision office approves it next."),
                "success",
            )
            return redirect(url_for("disclosure.detail", disclosure_id=disclosure_id))
    return render_template("disclosure/new.html", form=form)


def _detail(disclosure: Disclosure, withdraw_form: WithdrawForm | None = None):
    role = current_user.role
    return render_template(
        "disclosure/detail.html",
        disclosure=disclosure,
        columns=COLUMNS[disclosure.kind],
        kind_labels=KIND_LABELS,
        status_labels=STATUS_LABELS,
        can_approve=role in APPROVERS
        and disclosure.status == DisclosureStatus.DRAFT
        and disclosure.prepared_by_id != current_user.id,
        can_withdraw=role in APPROVERS and disclosure.status == DisclosureStatus.PUBLISHED,
        can_discard=disclosure.status == DisclosureStatus.DRAFT
        and (role in APPROVERS or disclosure.prepared_by_id == current_user.id),
        approve_form=ApproveForm(),
        withdraw_form=withdraw_form or WithdrawForm(formdata=None),
        discard_form=DiscardForm(),
        public_now=is_public(disclosure, clock.today()),
        pdf=stored_pdf(db.session, disclosure.id),
        can_make_pdf=role in PDF_MAKERS and disclosure.status == DisclosureStatus.PUBLISHED,
        pdf_form=ButtonForm(),
    )


@bp.route("/<int:disclosure_id>")
@logged_in
def detail(disclosure_id: int):
    return _detail(_load(disclosure_id))


@bp.route("/<int:disclosure_id>/approve", methods=["POST"])
@role_required(*APPROVERS)
def approve(disclosure_id: int):
    disclosure = _load(disclosure_id)
    form = ApproveForm()
    if form.validate_on_submit():
        try:
            approve_disclosure(db.session, disclosure, user=current_user)
        except RuleViolation as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            # The public PDF is rendered once, now, in a job owned by who published it.
            submit_disclosure_pdf(disclosure, current_user)
            flash(
                _(
                    "Approved: the disclosure is published for its period; its PDF is being "
                    "prepared."
                ),
                "success",
            )
    return redirect(url_for("disclosure.detail", disclosure_id=disclosure_id))


@bp.route("/<int:disclosure_id>/pdf/make", methods=["POST"])
@role_required(*PDF_MAKERS)
def make_pdf(disclosure_id: int):
    """Make the PDF of a disclosure published before PDFs were kept (or whose job failed)."""
    disclosure = _load(disclosure_id)
    if not ButtonForm().validate_on_submit():
        return redirect(url_for("disclosure.detail", disclosure_id=disclosure_id))
    if disclosure.status != DisclosureStatus.PUBLISHED:
        flash(_("Only a published disclosure has a PDF."), "error")
        return redirect(url_for("disclosure.detail", disclosure_id=disclosure_id))
    if stored_pdf(db.session, disclosure.id) is not None:
        flash(_("The PDF of this disclosure is made already."), "success")
        return redirect(url_for("disclosure.detail", disclosure_id=disclosure_id))
    return job_page(submit_disclosure_pdf(disclosure, current_user))


@bp.route("/<int:disclosure_id>/withdraw", methods=["POST"])
@role_required(*APPROVERS)
def withdraw(disclosure_id: int):
    disclosure = _load(disclosure_id)
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            withdraw_disclosure(db.session, disclosure, reason=form.reason.data, user=current_user)
        except RuleViolation as exc:
            db.session.rollback()
            if disclosure.status != DisclosureStatus.PUBLISHED:  # the page shows no form then
                flash(exc.message, "error")
                return redirect(url_for("disclosure.detail", disclosure_id=disclosure_id))
            show_violation(form, exc, "reason")
            return _detail(_load(disclosure_id), form)
        db.session.commit()
        flash(_("The disclosure is withdrawn; its public page says so."), "success")
        return redirect(url_for("disclosure.detail", disclosure_id=disclosure_id))
    return _detail(disclosure, form)


@bp.route("/<int:disclosure_id>/discard", methods=["POST"])
@role_required(Role.ADMIN, Role.CASEWORKER, Role.SUPERVISOR)
def discard(disclosure_id: int):
    disclosure = _load(disclosure_id)
    if DiscardForm().validate_on_submit():
        try:
            discard_draft(db.session, disclosure, user=current_user)
        except RuleViolation as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return redirect(url_for("disclosure.detail", disclosure_id=disclosure_id))
        db.session.commit()
        flash(_("The draft is discarded."), "success")
    return redirect(url_for("disclosure.index"))
