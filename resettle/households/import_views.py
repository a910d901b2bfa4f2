"""Household ledgers in Excel: upload with a preview and a confirm step, the error report,
the template, the export."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import PurePath
from typing import Any

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, SelectField
from wtforms.validators import InputRequired

from resettle import clock
from resettle.audit.access import audited_download
from resettle.auth.models import Role
from resettle.auth.policy import logged_in, role_required
from resettle.db import database_int, parses_before_writing
from resettle.errors import RuleViolation
from resettle.extensions import db
from resettle.households import bp, ledger
from resettle.households.ledger import (
    ACTION_LABELS,
    COLUMNS,
    MEMBER_COLUMNS,
    ImportReport,
)
from resettle.households.views import filter_from_args
from resettle.privacy import sees_full_personal_data
from resettle.projects.models import ExpropriationProject
from resettle.projects.services import all_projects
from resettle.spreadsheets.models import PendingUpload
from resettle.spreadsheets.stash import discard_upload, pending_upload, stash_upload
from resettle.spreadsheets.writing import XLSX_MIMETYPE
from resettle.translate import gettext as _
from resettle.translate import lazy_gettext as _l

UPLOAD_KIND = "household_ledger"


class ImportForm(FlaskForm):
    project_id = SelectField(_l("Project"), coerce=int, validators=[InputRequired()])
    ledger = FileField(
        _l("Ledger file (.xlsx or .xls)"),
        validators=[FileRequired(_l("Choose the Excel file of the ledger."))],
    )


class ConfirmForm(FlaskForm):
    token = HiddenField()
    skip_bad = HiddenField()
    warnings_confirmed = BooleanField(_l("I checked these ID numbers against the ID cards"))


def _preview(
    report: ImportReport,
    project: ExpropriationProject,
    upload: PendingUpload,
    *,
    confirm_missing: bool = False,
) -> str:
    return render_template(
        "households/import_preview.html",
        report=report,
        project=project,
        filename=upload.filename,
        token=upload.token,
        confirm_form=ConfirmForm(token=upload.token, formdata=None),
        columns=[c for c in COLUMNS if c.field in report.headers],
        action_labels=ACTION_LABELS,
        confirm_missing=confirm_missing,
    )


def _form() -> ImportForm:
    form = ImportForm()
    form.project_id.choices = [(p.id, f"{p.code} {p.name}") for p in all_projects()]
    chosen = request.args.get("project", type=database_int) if request.method == "GET" else None
    if chosen:
        form.project_id.data = chosen
    return form


def _help_columns() -> dict[str, Any]:
    return {"columns": COLUMNS, "member_columns": MEMBER_COLUMNS}


@bp.route("/import", methods=["GET", "POST"])
@parses_before_writing
@role_required(Role.ADMIN, Role.CASEWORKER)
def import_form():
    form = _form()
    problem = None
    if form.validate_on_submit():
        project = db.session.get(ExpropriationProject, form.project_id.data) or abort(404)
        content = form.ledger.data.read()
        filename = PurePath((form.ledger.data.filename or "").replace("\\", "/")).name
        try:
            report = ledger.import_households(
                db.session, project, content, operator=current_user, dry_run=True
            )
        except RuleViolation as exc:
            db.session.rollback()
            problem = exc.message
        else:
            db.session.rollback()  # a dry run: nothing of the report stays
            upload = stash_upload(
                db.session, UPLOAD_KIND, project.id, content, filename, current_user
            )
            db.session.commit()
            return _preview(report, project, upload)
    return render_template("households/import.html", form=form, problem=problem, **_help_columns())


def _upload_or_none(token: str | None, *, claim: bool = False) -> PendingUpload | None:
    return pending_upload(db.session, UPLOAD_KIND, token, current_user, claim=claim)


@bp.route("/import/confirm", methods=["POST"])
@role_required(Role.ADMIN, Role.CASEWORKER)
def import_confirm():
    form = ConfirmForm()
    upload = _upload_or_none(form.token.data, claim=True) if form.validate_on_submit() else None
    if upload is None:
        flash(_("This import has expired or was done already. Upload the file again."), "error")
        return redirect(url_for("households.import_form"))
    project = db.session.get(ExpropriationProject, upload.scope_id) or abort(404)
    try:
        report = ledger.import_households(
            db.session,
            project,
            upload.content,
            operator=current_user,
            skip_bad=form.skip_bad.data == "1",
            confirm_warnings=bool(form.warnings_confirmed.data),
        )
    except RuleViolation as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("households.import_form", project=project.id))
    if not report.saved:
        # The project changed since the preview, or a warning was not confirmed: show what
        # stands in the way now, keep the file.
        db.session.rollback()
        return _preview(report, project, upload, confirm_missing=report.needs_confirmation)
    discard_upload(db.session, upload)
    db.session.commit()
    flash(_("Import finished: %(summary)s", summary=report.summary()), "success")
    return redirect(url_for("households.index", project=project.id))


@bp.route("/import/<token>/report.xlsx")
@role_required(Role.ADMIN, Role.CASEWORKER)
@audited_download("PendingUpload")
def import_report(token: str):
    """The uploaded file back with a 错误说明 column and the bad cells marked."""
    upload = _upload_or_none(token) or abort(404)
    project = db.session.get(ExpropriationProject, upload.scope_id) or abort(404)
    try:
        report = ledger.import_households(
            db.session, project, upload.content, operator=current_user, dry_run=True
        )
        content = ledger.import_error_report(upload.content, report)
    except RuleViolation:
        abort(404)
    finally:
        db.session.rollback()
    stem = PurePath(upload.filename).stem or "台账"
    return _xlsx(content, f"{stem}-错误说明.xlsx")


@bp.route("/import/template")
@role_required(Role.ADMIN, Role.CASEWORKER)
def import_template():
    return _xlsx(ledger.import_template(), "被征收户调查登记表模板.xlsx")


@bp.route("/export")
@logged_in
@audited_download("Household")
def export():
    filters = filter_from_args()
    content = ledger.export_households(
        db.session, filters, full_ids=sees_full_personal_data(current_user), today=clock.today()
    )
    stamp = datetime.now(clock.OFFICE_TZ).strftime("%Y%m%d-%H%M")
    return _xlsx(content, f"被征收户-{stamp}.xlsx")


def _xlsx(content: bytes, filename: str) -> Any:
    response = send_file(
        io.BytesIO(content), mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=filename
    )
    response.headers["Cache-Control"] = "no-store"
    return response
