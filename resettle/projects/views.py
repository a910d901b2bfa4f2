"""Project screens: list, create, edit."""

from __future__ import annotations

from dataclasses import fields

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from resettle.auth.models import Role
from resettle.auth.policy import logged_in, role_required
from resettle.dashboard.services import dashboard_figures
from resettle.errors import RuleViolation
from resettle.extensions import db
from resettle.forms import show_violation
from resettle.projects import bp
from resettle.projects.forms import ProjectForm, PublishForm
from resettle.projects.models import ExpropriationProject
from resettle.projects.services import (
    ProjectData,
    create_project,
    project_data,
    publish_project,
    published_project_ids,
    update_project,
    withdraw_project,
)
from resettle.sites.models import ResettlementSite
from resettle.translate import gettext as _


@bp.route("/")
@logged_in
def index():
    figures = dashboard_figures(db.session)
    return render_template(
        "projects/index.html",
        projects=figures.projects,
        published=published_project_ids(db.session),
        form=PublishForm(),
    )


@bp.route("/<int:project_id>/publish", methods=["POST"])
@role_required(Role.SUPERVISOR, Role.ADMIN)
def publish(project_id: int):
    project = db.session.get(ExpropriationProject, project_id) or abort(404)
    if PublishForm().validate_on_submit() and publish_project(db.session, project):
        db.session.commit()
        flash(_("Project %(code)s is now on the public pages.", code=project.code), "success")
    else:
        flash(_("Project %(code)s was already on the public pages.", code=project.code), "info")
    return redirect(url_for("projects.index"))


@bp.route("/<int:project_id>/withdraw", methods=["POST"])
@role_required(Role.SUPERVISOR, Role.ADMIN)
def withdraw(project_id: int):
    project = db.session.get(ExpropriationProject, project_id) or abort(404)
    if PublishForm().validate_on_submit() and withdraw_project(db.session, project):
        db.session.commit()
        flash(_("Project %(code)s is no longer on the public pages.", code=project.code), "success")
    else:
        flash(_("Project %(code)s was not on the public pages.", code=project.code), "info")
    return redirect(url_for("projects.index"))


def _form_data(form: ProjectForm) -> ProjectData:
    return ProjectData(**{f.name: getattr(form, f.name).data for f in fields(ProjectData)})


def _site_choices() -> list[tuple[object, str]]:
    sites = db.session.scalars(sa.select(ResettlementSite).order_by(ResettlementSite.name))
    return [(None, _("None yet"))] + [(s.id, s.name) for s in sites]


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.ADMIN, Role.CASEWORKER)
def new():
    form = ProjectForm()
    form.site_id.choices = _site_choices()
    if form.validate_on_submit():
        try:
            project = create_project(db.session, _form_data(form))
        except RuleViolation as exc:
            db.session.rollback()
            show_violation(form, exc, "code")
        else:
            db.session.commit()
            flash(_("Project %(code)s created.", code=project.code), "success")
            return redirect(url_for("households.index", project=project.id))
    return render_template("projects/form.html", form=form, project=None)


@bp.route("/<int:project_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN, Role.CASEWORKER)
def edit(project_id: int):
    project = db.session.get(ExpropriationProject, project_id) or abort(404)
    form = ProjectForm(obj=project_data(project))
    form.site_id.choices = _site_choices()
    if form.validate_on_submit():
        try:
            update_project(db.session, project, _form_data(form), user=current_user)
        except RuleViolation as exc:
            db.session.rollback()
            show_violation(form, exc, "code")
        else:
            db.session.commit()
            flash(_("Project %(code)s saved.", code=project.code), "success")
            return redirect(url_for("projects.index"))
    return render_template("projects/form.html", form=form, project=project)
