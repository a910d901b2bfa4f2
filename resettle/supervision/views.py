"""Supervision screens: the overdue list (screen, PDF, Excel), orders, the leader dashboard."""

from __future__ import annotations

from datetime import date

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from resettle import clock
from resettle.audit.access import audited_download
from resettle.auth.models import Role
from resettle.auth.policy import logged_in, role_required
from resettle.db import database_int
from resettle.documents.numbers import begin_numbering
from resettle.errors import RuleViolation
from resettle.extensions import db
from resettle.jobs.services import job_page, starts_job, submit_job
from resettle.notices.services import notice_pdf
from resettle.notices.views import pdf_response
from resettle.plans.services import app_calendar
from resettle.projects.services import all_projects
from resettle.supervision import bp
from resettle.supervision.dashboard import dashboard, dashboard_totals
from resettle.supervision.exports import check_printable
from resettle.supervision.forms import CloseForm, OrderForm, ResponseForm
from resettle.supervision.jobs import overdue_params
from resettle.supervision.levels import LEVEL_LABELS, Level
from resettle.supervision.models import OrderStatus, SupervisionOrder
from resettle.supervision.orders import (
    ORDER_STATUS_LABELS,
    OrderData,
    OrderFilter,
    close_order,
    escalation_workdays,
    issue_order,
    items_done,
    list_orders,
    record_response,
    suggested_unit,
)
from resettle.supervision.overdue import (
    KIND_LABELS,
    UNASSIGNED,
    OverdueFilter,
    items_by_keys,
    overdue_page,
    units_in_use,
)
from resettle.translate import gettext as _

OFFICE = (Role.SUPERVISOR, Role.ADMIN)
READERS = (Role.LEADER, Role.SUPERVISOR, Role.ADMIN)


def _filters() -> tuple[OverdueFilter, date]:
    """The list's filters from the query string or the print form (the same for screen, PDF
    and Excel)."""
    values = request.values
    level = values.get("level", "")
    unit = values.get("unit", "").strip()[:100]
    as_of = clock.today()
    raw = values.get("as_of", "")
    if raw:
        try:
            as_of = date.fromisoformat(raw)
        except ValueError:
            flash(_("The date %(date)s is not valid; today is used.", date=raw[:20]), "error")
    if not date(2005, 1, 1) <= as_of <= date(2099, 12, 31):
        as_of = clock.today()
    return (
        OverdueFilter(
            project_id=values.get("project", type=database_int),
            unit=unit or None,
            level=Level(level) if level in Level._value2member_map_ else None,
        ),
        as_of,
    )


def _args() -> dict[str, str]:
    keep = ("project", "unit", "level", "as_of")
    return {k: v for k, v in request.args.items() if k in keep and v}


@bp.route("/overdue")
@logged_in
def overdue():
    filters, as_of = _filters()
    page = max(request.args.get("page", 1, type=database_int) or 1, 1)
    result = overdue_page(db.session, filters, as_of, page)
    return render_template(
        "supervision/overdue.html",
        result=result,
        filters=filters,
        as_of=as_of,
        args=_args(),
        projects=all_projects(),
        units=units_in_use(db.session),
        levels=list(Level),
        level_labels=LEVEL_LABELS,
        kind_labels=KIND_LABELS,
        unassigned=UNASSIGNED,
        can_issue=current_user.role in OFFICE and as_of == clock.today(),
        is_today=as_of == clock.today(),
    )


def _start_list_job(kind: str, title: str) -> Response:
    """The overdue list as a file, made by a job: the request answers at once."""
    filters, as_of = _filters()
    job = submit_job(
        kind,
        title=title,
        user=current_user,
        project_id=filters.project_id,
        params=overdue_params(filters, as_of),
    )
    return job_page(job)


@bp.route("/overdue.pdf", methods=["GET", "POST"])
@logged_in
@starts_job
def overdue_list_pdf():
    if request.method == "GET":  # an old link: the list, with its print button
        return redirect(url_for("supervision.overdue", **_args()))
    filters, as_of = _filters()
    try:
        check_printable(db.session, filters, as_of)
    except RuleViolation as exc:
        flash(exc.message, "error")
        return redirect(url_for("supervision.overdue", **_args()))
    return _start_list_job(
        "overdue_pdf", _("Overdue list as of %(date)s (PDF)", date=as_of.isoformat())
    )


@bp.route("/overdue.xlsx", methods=["GET", "POST"])
@logged_in
@starts_job
def overdue_list_xlsx():
    if request.method == "GET":
        return redirect(url_for("supervision.overdue", **_args()))
    _filters_, as_of = _filters()
    return _start_list_job(
        "overdue_xlsx", _("Overdue list as of %(date)s (Excel)", date=as_of.isoformat())
    )


@bp.route("/orders/new", methods=["GET", "POST"])
@role_required(*OFFICE)
def new_order():
    keys = list(dict.fromkeys(request.values.getlist("item")))
    form = OrderForm(formdata=request.form if "issue" in request.form else None)
    today = clock.today()
    if "issue" in request.form and form.validate_on_submit():
        db.session.rollback()
        begin_numbering(db.session)
        try:
            order = issue_order(
                db.session,
                OrderData(
                    keys=keys,
                    responsible_unit=form.responsible_unit.data,
                    rectify_workdays=form.rectify_workdays.data,
                    note=form.note.data,
                ),
                user=current_user,
            )
        except RuleViolation as exc:
            db.session.rollback()
            target = getattr(form, exc.field or "", None)
            if target is not None and hasattr(target, "errors"):
                target.errors = [*target.errors, exc.message]
            else:
                flash(exc.message, "error")
        else:
            order_id, number = order.id, order.number
            db.session.commit()
            flash(_("Supervision order %(number)s is issued.", number=number), "success")
            return redirect(url_for("supervision.order", order_id=order_id))
    items = items_by_keys(db.session, keys, today) if keys else []
    if keys and len(items) < len(keys) and "issue" not in request.form:
        flash(
            _(
                "%(n)d of the chosen items are no longer open and were left out.",
                n=len(keys) - len(items),
            ),
            "info",
        )
    if not form.is_submitted() or "issue" not in request.form:
        form.responsible_unit.data = suggested_unit(items)
    return render_template(
        "supervision/new_order.html",
        form=form,
        items=items,
        level_labels=LEVEL_LABELS,
        kind_labels=KIND_LABELS,
    )


@bp.route("/orders")
@logged_in
def orders():
    filters = OrderFilter(
        status=request.args.get("status") or None, unit=request.args.get("unit") or None
    )
    today = clock.today()
    calendar = app_calendar(db.session)
    found = list_orders(db.session, filters, today)
    return render_template(
        "supervision/orders.html",
        orders=found,
        filters=filters,
        today=today,
        escalation={o.id: escalation_workdays(o, today, calendar) for o in found},
        status_labels=ORDER_STATUS_LABELS,
        units=units_in_use(db.session),
    )


def _load(order_id: int) -> SupervisionOrder:
    return db.session.get(SupervisionOrder, order_id) or abort(404)


def _render_order(
    order: SupervisionOrder, response_form: ResponseForm, close_form: CloseForm
) -> str:
    today = clock.today()
    done = items_done(db.session, order)
    return render_template(
        "supervision/order.html",
        order=order,
        done=done,
        open_items=sum(1 for v in done.values() if not v),
        today=today,
        escalated_by=escalation_workdays(order, today, app_calendar(db.session)),
        status_labels=ORDER_STATUS_LABELS,
        level_labels=LEVEL_LABELS,
        kind_labels=KIND_LABELS,
        response_form=response_form,
        close_form=close_form,
        can_edit=current_user.role in OFFICE and order.status != OrderStatus.CLOSED,
    )


@bp.route("/orders/<int:order_id>")
@logged_in
def order(order_id: int):
    order = _load(order_id)
    response_form, close_form = ResponseForm(formdata=None), CloseForm(formdata=None)
    response_form.responded_on.data = close_form.closed_on.data = clock.today()
    return _render_order(order, response_form, close_form)


@bp.route("/orders/<int:order_id>/pdf")
@logged_in
@audited_download("SupervisionOrder", "order_id")
def order_pdf(order_id: int):
    order = _load(order_id)
    return pdf_response(notice_pdf(order.notice), f"order-{order.id}.pdf")


@bp.route("/orders/<int:order_id>/responses", methods=["POST"])
@role_required(*OFFICE)
def respond(order_id: int):
    order = _load(order_id)
    form = ResponseForm()
    close_form = CloseForm(formdata=None)
    close_form.closed_on.data = clock.today()
    if form.validate_on_submit():
        try:
            record_response(
                db.session,
                order,
                responded_on=form.responded_on.data,
                text=form.text.data,
                user=current_user,
            )
        except RuleViolation as exc:
            db.session.rollback()
            order = _load(order_id)
            if order.status == OrderStatus.CLOSED:  # the page shows no response form then
                flash(exc.message, "error")
            else:
                target = getattr(form, exc.field, form.text)
                target.errors = [*target.errors, exc.message]
        else:
            db.session.commit()
            flash(_("The response is recorded."), "success")
            return redirect(url_for("supervision.order", order_id=order_id))
    return _render_order(order, form, close_form)


@bp.route("/orders/<int:order_id>/close", methods=["POST"])
@role_required(*OFFICE)
def close(order_id: int):
    order = _load(order_id)
    form = CloseForm()
    response_form = ResponseForm(formdata=None)
    response_form.responded_on.data = clock.today()
    if form.validate_on_submit():
        try:
            still_open = close_order(
                db.session,
                order,
                closed_on=form.closed_on.data,
                note=form.note.data,
                user=current_user,
            )
        except RuleViolation as exc:
            db.session.rollback()
            order = _load(order_id)
            if order.status == OrderStatus.CLOSED:  # the page shows no closing form then
                flash(exc.message, "error")
            else:
                target = getattr(form, exc.field, form.closed_on)
                target.errors = [*target.errors, exc.message]
        else:
            db.session.commit()
            if still_open:
                flash(
                    _(
                        "The order is closed; %(n)d of its items are still open.",
                        n=still_open,
                    ),
                    "info",
                )
            else:
                flash(_("The order is closed; all its items are done."), "success")
            return redirect(url_for("supervision.order", order_id=order_id))
    return _render_order(order, response_form, form)


@bp.route("/dashboard")
@role_required(*READERS)
def leader_dashboard():
    today = clock.today()
    rows = dashboard(db.session, today)
    return render_template(
        "supervision/dashboard.html",
        rows=rows,
        totals=dashboard_totals(rows),
        today=today,
        unassigned=UNASSIGNED,
    )
