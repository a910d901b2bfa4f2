"""Fund screens: the monthly fund plan with its shortfall, sources, rule versions, reversals,
and a swap household's settlement sheet (结算单) as a page and a PDF."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import sqlalchemy as sa
from flask import Response, abort, flash, make_response, redirect, render_template, url_for
from flask_login import current_user

from resettle import clock
from resettle.audit.access import audited_download
from resettle.auth.models import Role
from resettle.auth.policy import logged_in, role_required
from resettle.errors import RuleViolation
from resettle.extensions import db
from resettle.forms import show_violation
from resettle.funds import bp
from resettle.funds.forms import ReverseForm, RuleForm, SourceForm
from resettle.funds.models import (
    BUSINESS_LOSS_METHOD_LABELS,
    INCOMING_KINDS,
    CompensationRule,
    FundSource,
    MonthCounting,
    Payment,
    SourceKind,
)
from resettle.funds.services import (
    BALANCE_LABELS,
    RuleData,
    add_fund_source,
    create_rule_version,
    fund_plan,
    price_list_text,
    reverse_payment,
)
from resettle.funds.settlement import settlement_sheet
from resettle.households.models import Household
from resettle.jobs.services import job_page, starts_job, submit_job
from resettle.pdf import render_pdf
from resettle.projects.models import ExpropriationProject
from resettle.translate import gettext as _

EDITORS = (Role.ADMIN, Role.CASEWORKER)


def _project(project_id: int) -> ExpropriationProject:
    return db.session.get(ExpropriationProject, project_id) or abort(404)


def _page(project: ExpropriationProject, source_form: SourceForm | None = None):  # noqa: ANN202
    rules = db.session.scalars(
        sa.select(CompensationRule)
        .where(CompensationRule.project_id == project.id)
        .order_by(CompensationRule.version.desc())
    ).all()
    sources = db.session.scalars(
        sa.select(FundSource)
        .where(FundSource.project_id == project.id)
        .order_by(FundSource.available_on)
    ).all()
    form = source_form or SourceForm()
    if not form.available_on.data:
        form.available_on.data = clock.today()
    return render_template(
        "funds/project.html",
        project=project,
        plan=fund_plan(db.session, project),
        rules=rules,
        sources=sources,
        source_form=form,
        can_edit=current_user.role in EDITORS,
        this_month=clock.today().strftime("%Y-%m"),
        business_loss_labels=BUSINESS_LOSS_METHOD_LABELS,
    )


@bp.app_context_processor
def balance_labels() -> dict[str, Any]:
    """How a household's balance reads (应付 / 应收 / 已结清) on every page that shows one."""
    return {"BALANCE_LABELS": BALANCE_LABELS, "INCOMING_KINDS": INCOMING_KINDS}


@bp.route("/projects/<int:project_id>")
@logged_in
def project(project_id: int):
    return _page(_project(project_id))


@bp.route("/projects/<int:project_id>/plan.xlsx")
@logged_in
@starts_job
def plan_xlsx(project_id: int):
    """The fund plan as .xlsx, made by a background job (planning every household of a large
    project takes longer than a request may)."""
    project = _project(project_id)
    job = submit_job(
        "fund_plan_export",
        title=_("Fund plan of %(project)s (Excel)", project=project.code),
        user=current_user,
        project_id=project.id,
        params={"project_id": project.id},
    )
    return job_page(job)


@bp.route("/projects/<int:project_id>/sources", methods=["POST"])
@role_required(*EDITORS)
def add_source(project_id: int):
    project = _project(project_id)
    form = SourceForm()
    if form.validate_on_submit():
        try:
            add_fund_source(
                db.session,
                project,
                kind=SourceKind(form.kind.data),
                name=form.name.data,
                amount=form.amount.data,
                available_on=form.available_on.data,
            )
        except RuleViolation as exc:
            db.session.rollback()
            show_violation(form, exc, "name")
            return _page(_project(project_id), form)
        db.session.commit()
        flash(_("Fund source added."), "success")
        return redirect(url_for("funds.project", project_id=project.id))
    return _page(project, form)


@bp.route("/projects/<int:project_id>/rules/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def new_rule(project_id: int):
    project = _project(project_id)
    latest = db.session.scalar(
        sa.select(CompensationRule)
        .where(CompensationRule.project_id == project.id)
        .order_by(CompensationRule.version.desc())
        .limit(1)
    )
    form = RuleForm(obj=latest)
    if latest is not None and not form.is_submitted():
        form.month_counting.data = latest.month_counting.value
        form.business_loss_method.data = (
            latest.business_loss_method.value if latest.business_loss_method else ""
        )
        form.price_list.data = price_list_text(latest)
        form.effective_from.data = clock.today()
    if form.validate_on_submit():
        data = RuleData(
            **{
                f.name: getattr(form, f.name).data
                for f in fields(RuleData)
                if hasattr(form, f.name)
            }
        )
        data.month_counting = MonthCounting(form.month_counting.data)
        data.price_list = form.price_list.data or ""  # what the form shows is the new list
        try:
            rule = create_rule_version(db.session, project, data)
        except RuleViolation as exc:
            db.session.rollback()
            show_violation(form, exc, "note")
        else:
            db.session.commit()
            flash(_("Version %(n)d of the rules saved.", n=rule.version), "success")
            return redirect(url_for("funds.project", project_id=project.id))
    return render_template("funds/rule_form.html", form=form, project=project)


@bp.route("/payments/<int:payment_id>/reverse", methods=["POST"])
@role_required(Role.ADMIN, Role.SUPERVISOR)
def reverse(payment_id: int):
    payment = db.session.get(Payment, payment_id) or abort(404)
    form = ReverseForm()
    target = (
        url_for("households.detail", household_id=payment.household_id) + "#payments"
        if payment.household_id
        else url_for("dashboard.index")
    )
    if not form.validate_on_submit():
        flash(_("Give a reason for the reversal."), "error")
        return redirect(target)
    try:
        reverse_payment(db.session, payment, reason=form.reason.data, user=current_user)
    except RuleViolation as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(target)
    db.session.commit()
    flash(_("Payment %(voucher)s reversed.", voucher=payment.voucher_number), "success")
    return redirect(target)


def _sheet(household_id: int) -> tuple[Household, dict[str, Any] | None, str]:
    """The household (404 outside the account's projects), its settlement sheet as of today,
    or why it has none."""
    household = db.session.get(Household, household_id) or abort(404)
    try:
        return household, settlement_sheet(db.session, household, as_of=clock.today()), ""
    except RuleViolation as exc:
        return household, None, exc.message


@bp.route("/households/<int:household_id>/settlement")
@logged_in
def settlement(household_id: int):
    household, sheet, reason = _sheet(household_id)
    return render_template("funds/settlement.html", household=household, sheet=sheet, reason=reason)


@bp.route("/households/<int:household_id>/settlement.pdf")
@logged_in
@audited_download("Household", "household_id")
def settlement_pdf(household_id: int):
    household, sheet, reason = _sheet(household_id)
    if sheet is None:
        page = render_template(
            "funds/settlement.html", household=household, sheet=None, reason=reason
        )
        return make_response(page, 409)  # (not a download: no export is audited)
    data = render_pdf("funds/pdf/settlement.html", title=_("Settlement sheet"), sheet=sheet)
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f"inline; filename=settlement-{household.id}.pdf"},
    )
