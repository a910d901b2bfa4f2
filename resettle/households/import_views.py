"""Household ledgers in Excel: upload with a preview and a confirm step, template, export."""

from __future__ import annotations

import io
import re
import secrets
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import HiddenField, SelectField
from wtforms.validators import InputRequired

from resettle import clock
from resettle.auth.models import Role
from resettle.auth.policy import logged_in, role_required
from resettle.db import database_int
from resettle.errors import RuleViolation
from resettle.extensions import db
from resettle.households import bp, excel
from resettle.households.excel import ACTION_LABELS, COLUMNS, XLSX_MIMETYPE, ImportReport
from resettle.households.views import filter_from_args, sees_full_id
from resettle.projects.models import ExpropriationProject
from resettle.projects.services import all_projects
from resettle.translate import gettext as _
from resettle.translate import lazy_gettext as _l

# Uploads wait for the confirm step under a random name; older ones are removed.
PENDING_KEY = "household_import"
UPLOAD_MAX_AGE_SECONDS = 24 * 3600
_TOKEN = re.compile(r"[0-9a-f]{32}")


class ImportForm(FlaskForm):
    project_id = SelectField(_l("Project"), coerce=int, validators=[InputRequired()])
    ledger = FileField(
        _l("Ledger file (.xlsx)"),
        validators=[
            FileRequired(_l("Choose the Excel file of the ledger.")),
            FileAllowed(["xlsx"], _l("Choose an Excel workbook (.xlsx).")),
        ],
    )


class ConfirmForm(FlaskForm):
    token = HiddenField()


def _upload_dir() -> Path:
    configured = current_app.config.get("IMPORT_UPLOAD_DIR")
    folder = Path(configured) if configured else Path(current_app.instance_path) / "uploads"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _upload_path(token: str) -> Path:
    if not _TOKEN.fullmatch(token or ""):
        abort(400)
    return _upload_dir() / f"import-{token}.xlsx"


def _remove_old_uploads(folder: Path) -> None:
    cutoff = time.time() - UPLOAD_MAX_AGE_SECONDS
    for path in folder.glob("import-*.xlsx"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            pass


def _pending() -> dict[str, Any] | None:
    """The upload waiting for confirmation in this login session, if its file is still there."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or not _TOKEN.fullmatch(str(pending.get("token", ""))):
        return None
    if not _upload_path(pending["token"]).exists():
        return None
    return pending


def _discard_pending() -> None:
    pending = session.pop(PENDING_KEY, None)
    if isinstance(pending, dict) and _TOKEN.fullmatch(str(pending.get("token", ""))):
        _upload_path(pending["token"]).unlink(missing_ok=True)


def _preview(report: ImportReport, project: ExpropriationProject, filename: str, token: str) -> str:
    return render_template(
        "households/import_preview.html",
        report=report,
        project=project,
        filename=filename,
        confirm_form=ConfirmForm(token=token),
        columns=[c for c in COLUMNS if c.field in report.headers],
        action_labels=ACTION_LABELS,
    )


def _form() -> ImportForm:
    form = ImportForm()
    form.project_id.choices = [(p.id, f"{p.code} {p.name}") for p in all_projects()]
    chosen = request.args.get("project", type=database_int) if request.method == "GET" else None
    if chosen:
        form.project_id.data = chosen
    return form


@bp.route("/import", methods=["GET", "POST"])
@role_required(Role.ADMIN, Role.CASEWORKER)
def import_form():
    form = _form()
    problem = None
    if form.validate_on_submit():
        project = db.session.get(ExpropriationProject, form.project_id.data) or abort(404)
        _discard_pending()
        folder = _upload_dir()
        _remove_old_uploads(folder)
        token = secrets.token_hex(16)
        path = _upload_path(token)
        form.ledger.data.save(path)
        try:
            report = excel.import_households(
                db.session, project, path, operator=current_user, dry_run=True
            )
        except RuleViolation as exc:
            db.session.rollback()
            path.unlink(missing_ok=True)
            problem = exc.message
        else:
            db.session.rollback()
            filename = Path(form.ledger.data.filename or "").name
            session[PENDING_KEY] = {"token": token, "project_id": project.id, "filename": filename}
            return _preview(report, project, filename, token)
    return render_template("households/import.html", form=form, problem=problem, columns=COLUMNS)


@bp.route("/import/confirm", methods=["POST"])
@role_required(Role.ADMIN, Role.CASEWORKER)
def import_confirm():
    form = ConfirmForm()
    pending = _pending()
    if pending is None or not form.validate_on_submit() or form.token.data != pending["token"]:
        flash(_("The uploaded file is no longer waiting to be imported: upload it again."), "error")
        return redirect(url_for("households.import_form"))
    project = db.session.get(ExpropriationProject, pending["project_id"]) or abort(404)
    path = _upload_path(pending["token"])
    try:
        report = excel.import_households(db.session, project, path, operator=current_user)
    except RuleViolation as exc:
        db.session.rollback()
        _discard_pending()
        flash(exc.message, "error")
        return redirect(url_for("households.import_form", project=project.id))
    if not report.saved:
        # The project changed since the preview: show what is wrong now, keep the file.
        db.session.rollback()
        return _preview(report, project, pending["filename"], pending["token"])
    db.session.commit()
    _discard_pending()
    flash(_("Import finished: %(summary)s", summary=report.summary()), "success")
    return redirect(url_for("households.index", project=project.id))


@bp.route("/import/template")
@role_required(Role.ADMIN, Role.CASEWORKER)
def import_template():
    return _xlsx(excel.import_template(), "被征收户调查登记表模板.xlsx")


@bp.route("/export")
@logged_in
def export():
    filters = filter_from_args()
    content = excel.export_households(
        db.session, filters, full_ids=sees_full_id(current_user), today=clock.today()
    )
    stamp = datetime.now(clock.OFFICE_TZ).strftime("%Y%m%d-%H%M")
    return _xlsx(content, f"被征收户-{stamp}.xlsx")


def _xlsx(content: bytes, filename: str) -> Any:
    response = send_file(
        io.BytesIO(content), mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=filename
    )
    response.headers["Cache-Control"] = "no-store"
    return response
