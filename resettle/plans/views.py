"""Plan screens: the wall chart (挂图作战), node editing, printing, and the working calendar."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from resettle import clock
from resettle.auth.models import Role
from resettle.auth.policy import logged_in, role_required
from resettle.errors import RuleViolation
from resettle.extensions import db
from resettle.households.models import Stage
from resettle.households.stages import STAGE_ORDER
from resettle.i18n import STAGE_LABELS
from resettle.jobs.services import job_page
from resettle.plans import bp
from resettle.plans.forms import CalendarDayForm, NodeForm, OfficialYearForm
from resettle.plans.gantt import render_gantt_svg
from resettle.plans.jobs import submit_gantt_print
from resettle.plans.models import CalendarDay, OfficialYear, Plan, PlanKind, PlanNode
from resettle.plans.services import (
    NodeData,
    add_calendar_day,
    app_calendar,
    delete_node,
    enter_official_year,
    load_plan,
    plan_for_project,
    plan_for_site,
    remove_calendar_day,
    replan_keeping_error,
    save_node,
    target_of,
    transition_risks,
)
from resettle.plans.wallchart import chart_title, gantt_rows, owner_label
from resettle.projects.models import ExpropriationProject
from resettle.sites.models import ResettlementSite
from resettle.translate import gettext as _

EDITORS = (Role.ADMIN, Role.CASEWORKER)


def can_edit_plan(user: Any, plan: Plan) -> bool:
    """Templates are the admin's; an owned plan is edited by admins and caseworkers."""
    if plan.is_template:
        return user.role == Role.ADMIN
    return user.role in EDITORS


@bp.route("/")
@logged_in
def index():
    projects = db.session.scalars(
        sa.select(ExpropriationProject).order_by(ExpropriationProject.code)
    )
    sites = db.session.scalars(sa.select(ResettlementSite).order_by(ResettlementSite.name))
    plans = {
        (p.project_id, p.site_id): p
        for p in db.session.scalars(sa.select(Plan).where(Plan.is_template.is_(False)))
    }
    templates = db.session.scalars(
        sa.select(Plan).where(Plan.is_template.is_(True)).order_by(Plan.kind)
    )
    return render_template(
        "plans/index.html",
        projects=[(p, plans.get((p.id, None))) for p in projects],
        sites=[(s, plans.get((None, s.id))) for s in sites],
        templates=list(templates),
        can_edit=current_user.role in EDITORS,
    )


@bp.route("/open/<kind>/<int:owner_id>", methods=["POST"])
@role_required(*EDITORS)
def open_plan(kind: str, owner_id: int):
    if kind == "project":
        owner = db.session.get(ExpropriationProject, owner_id) or abort(404)
        plan = plan_for_project(db.session, owner)
    elif kind == "site":
        owner = db.session.get(ResettlementSite, owner_id) or abort(404)
        plan = plan_for_site(db.session, owner)
    else:
        abort(404)
    replan_keeping_error(db.session, plan)
    db.session.commit()
    return redirect(url_for("plans.detail", plan_id=plan.id))


@bp.route("/templates/<kind>", methods=["POST"])
@role_required(Role.ADMIN)
def open_template(kind: str):
    from resettle.plans.services import template_for

    if kind not in PlanKind._value2member_map_:
        abort(404)
    template = template_for(db.session, PlanKind(kind))
    db.session.commit()
    return redirect(url_for("plans.detail", plan_id=template.id))


def _load(plan_id: int) -> Plan:
    return load_plan(db.session, plan_id) or abort(404)


@bp.route("/<int:plan_id>")
@logged_in
def detail(plan_id: int):
    plan = _load(plan_id)
    rows = gantt_rows(plan)
    title = chart_title(plan)
    risks = []
    if plan.project is not None:
        risks = transition_risks(db.session, plan.project)
    elif plan.site is not None:
        owners = db.session.scalars(
            sa.select(ExpropriationProject).where(ExpropriationProject.site_id == plan.site_id)
        )
        risks = [r for p in owners for r in transition_risks(db.session, p)]
    return render_template(
        "plans/detail.html",
        plan=plan,
        owner=owner_label(plan),
        target=target_of(plan),
        svg=render_gantt_svg(rows, today=clock.today(), title=title, width_px=1400)
        if rows
        else None,
        risks=risks,
        can_edit=can_edit_plan(current_user, plan),
        names={n.id: n.name for n in plan.nodes},
    )


@bp.route("/<int:plan_id>/print", methods=["POST"])
@logged_in
def print_gantt(plan_id: int):
    """Start the A3 print of the wall chart as a job (changes nothing but the job row)."""
    plan = _load(plan_id)
    if not gantt_rows(plan):
        flash(_("The plan has no scheduled dates to print yet."), "error")
        return redirect(url_for("plans.detail", plan_id=plan.id))
    return job_page(submit_gantt_print(plan, current_user))


def _node_form(plan: Plan, node: PlanNode | None, formdata: Any = None) -> NodeForm:
    form = NodeForm(formdata=formdata)
    form.predecessors.choices = [(n.id, n.name) for n in plan.nodes if n is not node]
    form.stage.choices = [("", _("None"))] + [(s.value, STAGE_LABELS[s]) for s in STAGE_ORDER]
    if formdata is None and node is not None:
        form.name.data = node.name
        form.duration.data = node.duration
        form.predecessors.data = [link.predecessor_id for link in node.predecessors]
        form.lag.data = max((link.lag for link in node.predecessors), default=0)
        form.responsible_unit.data = node.responsible_unit
        form.responsible_person.data = node.responsible_person
        form.leader.data = node.leader
        form.stage.data = node.stage.value if node.stage else ""
        form.actual_start.data = node.actual_start
        form.actual_finish.data = node.actual_finish
    return form


@bp.route("/<int:plan_id>/nodes/new", methods=["GET", "POST"], endpoint="new_node")
@bp.route("/<int:plan_id>/nodes/<int:node_id>/edit", methods=["GET", "POST"])
@role_required(*EDITORS)
def edit_node(plan_id: int, node_id: int | None = None):
    plan = _load(plan_id)
    if not can_edit_plan(current_user, plan):
        abort(403)
    node = None
    if node_id is not None:
        node = next((n for n in plan.nodes if n.id == node_id), None) or abort(404)
    form = _node_form(plan, node, request.form if request.method == "POST" else None)
    if form.validate_on_submit():
        data = NodeData(
            name=form.name.data,
            duration=form.duration.data,
            responsible_unit=form.responsible_unit.data,
            responsible_person=form.responsible_person.data,
            leader=form.leader.data,
            stage=Stage(form.stage.data) if form.stage.data else None,
            actual_start=form.actual_start.data,
            actual_finish=form.actual_finish.data,
            predecessors=tuple((pid, form.lag.data or 0) for pid in form.predecessors.data or ()),
        )
        try:
            save_node(db.session, plan, node, data)
        except RuleViolation as exc:
            db.session.rollback()
            plan = _load(plan_id)
            node = next((n for n in plan.nodes if n.id == node_id), None)
            form = _node_form(plan, node, request.form)
            target = getattr(form, exc.field or "", None) or form.name
            target.errors = (
                [*target.errors, exc.message] if isinstance(target.errors, list) else [exc.message]
            )
            return render_template("plans/node_form.html", form=form, plan=plan, node=node)
        db.session.commit()
        flash(_("Saved, and the plan was scheduled again."), "success")
        return redirect(url_for("plans.detail", plan_id=plan.id))
    return render_template("plans/node_form.html", form=form, plan=plan, node=node)


@bp.route("/<int:plan_id>/nodes/<int:node_id>/delete", methods=["POST"])
@role_required(*EDITORS)
def remove_node(plan_id: int, node_id: int):
    plan = _load(plan_id)
    if not can_edit_plan(current_user, plan):
        abort(403)
    node = next((n for n in plan.nodes if n.id == node_id), None) or abort(404)
    try:
        delete_node(db.session, plan, node)
    except RuleViolation as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("plans.detail", plan_id=plan_id))
    db.session.commit()
    flash(_("Node removed, and the plan was scheduled again."), "success")
    return redirect(url_for("plans.detail", plan_id=plan_id))


@bp.route("/calendar", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def calendar():
    day_form = CalendarDayForm(prefix="day")
    year_form = OfficialYearForm(prefix="year")
    if request.method == "POST" and "day-day" in request.form and day_form.validate_on_submit():
        try:
            add_calendar_day(
                db.session,
                day_form.day.data,
                working=day_form.working.data == "on",
                official=day_form.official.data == "official",
                note=day_form.note.data,
            )
        except RuleViolation as exc:
            db.session.rollback()
            day_form.day.errors = [exc.message]
        else:
            db.session.commit()
            flash(_("Saved, and every plan was scheduled again."), "success")
            return redirect(url_for("plans.calendar"))
    if request.method == "POST" and "year-year" in request.form and year_form.validate_on_submit():
        try:
            enter_official_year(db.session, year_form.year.data, year_form.note.data)
        except RuleViolation as exc:
            db.session.rollback()
            year_form.year.errors = [exc.message]
        else:
            db.session.commit()
            flash(_("Saved, and every plan was scheduled again."), "success")
            return redirect(url_for("plans.calendar"))
    cal = app_calendar(db.session)
    return render_template(
        "plans/calendar.html",
        day_form=day_form,
        year_form=year_form,
        days=db.session.scalars(sa.select(CalendarDay).order_by(CalendarDay.day)).all(),
        years=db.session.scalars(sa.select(OfficialYear).order_by(OfficialYear.year)).all(),
        provisional_from=min(cal.provisional_years) if cal.provisional_years else None,
    )


@bp.route("/calendar/<int:day_id>/delete", methods=["POST"])
@role_required(Role.ADMIN)
def remove_day(day_id: int):
    entry = db.session.get(CalendarDay, day_id) or abort(404)
    remove_calendar_day(db.session, entry)
    db.session.commit()
    flash(_("Removed, and every plan was scheduled again."), "success")
    return redirect(url_for("plans.calendar"))
