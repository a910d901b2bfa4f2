"""Household work as background jobs: a large ledger's check (its preview) and import (its
confirmation), and the household list's export."""

from __future__ import annotations

from datetime import datetime

from resettle import clock
from resettle.db import begin_write
from resettle.extensions import db
from resettle.households.ledger import UPLOAD_KIND, export_households
from resettle.households.previews import check_upload, expired_upload, import_upload
from resettle.households.queries import FILTER_ARGS, filter_from
from resettle.jobs.services import JobContext, job_kind
from resettle.privacy import sees_full_personal_data
from resettle.spreadsheets.stash import pending_upload
from resettle.spreadsheets.writing import XLSX_MIMETYPE
from resettle.translate import gettext as _


@job_kind("ledger_preview")
def check_ledger(job: JobContext) -> None:
    """Check an uploaded ledger and keep its preview with the upload; the result is the
    preview page (the upload stays bound to the person who made it)."""
    upload = pending_upload(db.session, UPLOAD_KIND, job.params["token"], job.user)
    if upload is None:
        raise expired_upload()
    preview = check_upload(db.session, upload, operator=job.user, progress=job.progress)
    job.say(
        _(
            "%(rows)d rows checked: %(created)d new, %(updated)d changed, %(unchanged)d "
            "unchanged, %(invalid)d with problems.",
            rows=preview.row_count,
            created=preview.created,
            updated=preview.updated,
            unchanged=preview.unchanged,
            invalid=preview.invalid,
        )
    )
    job.link("households.import_preview", token=upload.token)


@job_kind("ledger_import")
def import_ledger(job: JobContext) -> None:
    """Import a previewed ledger: every row or none (the job's transaction); the upload is
    claimed first, so a second confirmation of the same preview finds it imported and gone."""
    db.session.rollback()
    begin_write(db.session, must_open=True)
    token = job.params["token"]
    upload = pending_upload(db.session, UPLOAD_KIND, token, job.user, claim=True)
    if upload is None:
        raise expired_upload()
    project_id = upload.scope_id
    report = import_upload(
        db.session,
        upload,
        operator=job.user,
        skip_bad=bool(job.params.get("skip_bad")),
        confirm_warnings=bool(job.params.get("confirm_warnings")),
        progress=job.progress,
    )
    if not report.saved:
        # Nothing was written; the upload keeps the new preview, which says what stands in
        # the way now.
        job.say(
            _("Tick the confirmation to import these rows.")
            if report.needs_confirmation
            else _(
                "Nothing was imported: the project's households changed since the preview. "
                "Check the new preview and confirm again."
            )
        )
        job.link("households.import_preview", token=token)
        return
    job.say(_("Import finished: %(summary)s", summary=report.summary()))
    job.link("households.index", project=project_id)


def export_params(args: dict[str, str]) -> dict[str, str]:
    """The list's filter as an export job keeps it (its query-string arguments)."""
    return {name: str(args[name])[:100] for name in FILTER_ARGS if args.get(name)}


@job_kind("household_export", retry_on_error=True, entity="Household")
def export_household_list(job: JobContext) -> None:
    """The filtered household list as .xlsx, ID numbers and phones masked unless the account
    sees them in full."""
    content = export_households(
        db.session,
        filter_from(job.params),
        full_ids=sees_full_personal_data(job.user),
        today=clock.today(),
    )
    stamp = datetime.now(clock.OFFICE_TZ).strftime("%Y%m%d-%H%M")
    job.keep_file(content, f"被征收户-{stamp}.xlsx", XLSX_MIMETYPE)
