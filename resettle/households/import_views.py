"""Household ledgers in Excel: upload with a preview and a confirm step, the error report,
the template, the export."""

from __future__ import annotations

import io
from pathlib import PurePath
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, SelectField
from wtforms.validators import InputRequired

from resettle.audit.access import audited_download
from resettle.auth.models import Role
from resettle.auth.policy import logged_in, role_required
from resettle.db import database_int, parses_before_writing
from resettle.errors import RuleViolation
from resettle.extensions import db
from resettle.households import bp, ledger
from resettle.households.jobs import export_params
from resettle.households.ledger import ACTION_LABELS, COLUMNS, MEMBER_COLUMNS, UPLOAD_KIND
from resettle.households.previews import LedgerPreview, import_upload, stored_preview
from resettle.households.views import filter_from_args
from resettle.jobs.models import Job
from resettle.jobs.services import job_page, starts_job, submit_job
from resettle.projects.models import ExpropriationProject
from resettle.projects.scope import sees_project
from resettle.projects.services import all_projects
from resettle.spreadsheets.models import PendingUpload
from resettle.spreadsheets.problems import RowErrors
from resettle.spreadsheets.stash import pending_upload, stash_upload
from resettle.spreadsheets.writing import XLSX_MIMETYPE, error_report
from resettle.translate import gettext as _
from resettle.translate import lazy_gettext as _l


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


def _preview(preview: LedgerPreview, project: ExpropriationProject, upload: PendingUpload) -> str:
    return render_template(
        "households/import_preview.html",
        report=preview,
        project=project,
        filename=upload.filename,
        token=upload.token,
        confirm_form=ConfirmForm(token=upload.token, formdata=None),
        columns=[c for c in COLUMNS if c.field in preview.headers],
        action_labels=ACTION_LABELS,
        confirm_missing=preview.confirm_missing,
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


def _as_job(rows: int | None) -> bool:
    """Whether a ledger of this many rows (None: the file does not say) is checked and
    imported by a background job rather than in the request."""
    return rows is None or rows > current_app.config["IMPORT_JOB_ROWS"]


def _to_job(job: Job) -> Any:
    return job_page(job)


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
            stated = ledger.stated_ledger_rows(content)  # the header, from the first rows
            if not _as_job(stated):
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
            if _as_job(stated):
                job = submit_job(
                    "ledger_preview",
                    title=_("Check the ledger %(file)s", file=upload.filename),
                    user=current_user,
                    project_id=project.id,
                    params={"token": upload.token},
                    total=stated or 0,
                )
                return _to_job(job)
            preview = LedgerPreview.of(report)
            upload.preview = preview.to_json()
            db.session.commit()
            return _preview(preview, project, upload)
    return render_template("households/import.html", form=form, problem=problem, **_help_columns())


def _upload_or_none(token: str | None, *, claim: bool = False) -> PendingUpload | None:
    return pending_upload(db.session, UPLOAD_KIND, token, current_user, claim=claim)


@bp.route("/import/<token>")
@role_required(Role.ADMIN, Role.CASEWORKER)
def import_preview(token: str):
    """The kept preview of an upload (a background job's check ends here)."""
    upload = _upload_or_none(token) or abort(404)
    preview = stored_preview(upload) or abort(404)
    project = db.session.get(ExpropriationProject, upload.scope_id) or abort(404)
    return _preview(preview, project, upload)


def _expired() -> Any:
    flash(_("This import has expired or was done already. Upload the file again."), "error")
    return redirect(url_for("households.import_form"))


@bp.route("/import/confirm", methods=["POST"])
@role_required(Role.ADMIN, Role.CASEWORKER)
def import_confirm():
    form = ConfirmForm()
    upload = _upload_or_none(form.token.data) if form.validate_on_submit() else None
    if upload is None:
        return _expired()
    project = db.session.get(ExpropriationProject, upload.scope_id) or abort(404)
    skip_bad = form.skip_bad.data == "1"
    confirmed = bool(form.warnings_confirmed.data)
    preview = stored_preview(upload)
    if preview is not None and _as_job(preview.row_count):
        if preview.warnings and not confirmed:
            preview.confirm_missing = True
            return _preview(preview, project, upload)  # nothing queued
        job = submit_job(
            "ledger_import",
            title=_("Import the ledger %(file)s", file=upload.filename),
            user=current_user,
            project_id=project.id,
            params={"token": upload.token, "skip_bad": skip_bad, "confirm_warnings": confirmed},
            total=preview.row_count,
        )
        return _to_job(job)
    upload = _upload_or_none(form.token.data, claim=True)
    if upload is None:
        return _expired()
    try:
        report = import_upload(
            db.session,
            upload,
            operator=current_user,
            skip_bad=skip_bad,
            confirm_warnings=confirmed,
        )
    except RuleViolation as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("households.import_form", project=project.id))
    if not report.saved:
        # The project changed since the preview, or a warning was not confirmed: show what
        # stands in the way now, keep the file (and the new preview with it).
        kept = upload.preview
        db.session.rollback()
        upload.preview = kept
        db.session.commit()
        return _preview(LedgerPreview.from_json(kept), project, upload)
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
    preview = stored_preview(upload)
    try:
        if preview is None:  # kept before previews were: check it again
            preview = LedgerPreview.of(
                ledger.import_households(
                    db.session, project, upload.content, operator=current_user, dry_run=True
                )
            )
        content = error_report(upload.content, _row_errors(preview), preview.header_rows())
    except RuleViolation:
        abort(404)
    finally:
        db.session.rollback()
    stem = PurePath(upload.filename).stem or "台账"
    return _xlsx(content, f"{stem}-错误说明.xlsx")


def _row_errors(preview: LedgerPreview) -> RowErrors:
    errors = RowErrors()
    errors.extend(preview.errors)
    return errors


@bp.route("/import/template")
@role_required(Role.ADMIN, Role.CASEWORKER)
def import_template():
    return _xlsx(ledger.import_template(), "被征收户调查登记表模板.xlsx")


@bp.route("/export")
@logged_in
@starts_job
def export():
    """The filtered list as .xlsx, made by a background job (a list of many households takes
    longer than a request may)."""
    filters = filter_from_args()
    project_id = filters.project_id
    if project_id is None and not current_user.sees_every_project:
        mine = sorted(current_user.project_ids)
        if len(mine) != 1:
            flash(_("Choose the project whose households to export."), "error")
            return redirect(url_for("households.index", **request.args))
        project_id = mine[0]
    if project_id is not None and not sees_project(project_id):
        abort(404)
    job = submit_job(
        "household_export",
        title=_("Household list (Excel)"),
        user=current_user,
        project_id=project_id,
        params=export_params(request.args.to_dict()),
    )
    return _to_job(job)


def _xlsx(content: bytes, filename: str) -> Any:
    response = send_file(
        io.BytesIO(content), mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=filename
    )
    response.headers["Cache-Control"] = "no-store"
    return response
