"""A ledger's preview as it is kept with its upload: what the check found (counts, problems,
warnings, the first rows), in JSON, so that the preview page, the error report and the
confirmation can show and use it without checking a large file again.

A small ledger's preview is made in the upload's request, a large one's by a background job
(`households.jobs`); both are shown from this one form by one template.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from resettle.auth.models import User
from resettle.errors import RuleViolation
from resettle.households.ledger import (
    COLUMNS,
    PREVIEW_ROWS,
    Action,
    ImportReport,
    Progress,
    SheetHeadings,
    import_households,
)
from resettle.projects.models import ExpropriationProject
from resettle.spreadsheets.models import PendingUpload
from resettle.spreadsheets.problems import CellProblem, RowError
from resettle.spreadsheets.stash import discard_upload
from resettle.translate import gettext as _


@dataclass(frozen=True)
class PreviewRow:
    """One of the first rows: what the import does with it and its cells as shown."""

    number: int
    action: Action
    case_number: str | None
    cells: dict[str, str]
    members: str

    def display(self, name: str) -> str:
        return self.cells.get(name, "")

    def members_text(self) -> str:
        return self.members


@dataclass(frozen=True)
class SkippedLine:
    number: int
    reason: str


@dataclass
class LedgerPreview(SheetHeadings):
    """What the preview page shows of a checked ledger (ImportReport's counts and problems,
    and its first rows only)."""

    sheet: str
    header_row: int
    headers: dict[str, str]
    scales: dict[str, int]
    ignored_columns: list[str]
    skipped: list[SkippedLine]
    members_sheet: str | None
    members_header_row: int | None
    member_count: int
    created: int
    updated: int
    unchanged: int
    invalid: int
    row_count: int  # household rows checked (not blank, not skipped)
    errors: list[RowError]
    warnings: list[tuple[int, str]]
    rows: list[PreviewRow] = field(default_factory=list)
    confirm_missing: bool = False  # a confirmation came without the warnings ticked

    @classmethod
    def of(cls, report: ImportReport, *, confirm_missing: bool = False) -> LedgerPreview:
        shown = [c.field for c in COLUMNS if c.field in report.headers]
        return cls(
            sheet=report.sheet,
            header_row=report.header_row,
            headers=dict(report.headers),
            scales=dict(report.scales),
            ignored_columns=list(report.ignored_columns),
            skipped=[SkippedLine(s.number, s.reason) for s in report.skipped],
            members_sheet=report.members_sheet,
            members_header_row=report.members_header_row,
            member_count=report.member_count,
            created=report.created,
            updated=report.updated,
            unchanged=report.unchanged,
            invalid=report.invalid,
            row_count=len(report.rows),
            errors=list(report.errors),
            warnings=list(report.warnings),
            rows=[
                PreviewRow(
                    number=row.number,
                    action=row.action,
                    case_number=row.case_number,
                    cells={name: row.display(name) for name in shown},
                    members=row.members_text(),
                )
                for row in report.preview(PREVIEW_ROWS)
            ],
            confirm_missing=confirm_missing,
        )

    # --- as the template reads it ------------------------------------------------------------

    @property
    def problem_count(self) -> int:
        return sum(len(e.problems) for e in self.errors)

    @property
    def importable(self) -> int:
        return self.created + self.updated

    def preview(self) -> list[PreviewRow]:
        return self.rows

    # --- kept as JSON --------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "sheet": self.sheet,
            "header_row": self.header_row,
            "headers": self.headers,
            "scales": self.scales,
            "ignored_columns": self.ignored_columns,
            "skipped": [[s.number, s.reason] for s in self.skipped],
            "members_sheet": self.members_sheet,
            "members_header_row": self.members_header_row,
            "member_count": self.member_count,
            "counts": [self.created, self.updated, self.unchanged, self.invalid],
            "row_count": self.row_count,
            "errors": [
                [e.sheet, e.row, [[p.column, p.reason, p.index] for p in e.problems]]
                for e in self.errors
            ],
            "warnings": [list(w) for w in self.warnings],
            "rows": [
                [r.number, r.action.value, r.case_number, r.cells, r.members] for r in self.rows
            ],
            "confirm_missing": self.confirm_missing,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LedgerPreview:
        created, updated, unchanged, invalid = data["counts"]
        return cls(
            sheet=data["sheet"],
            header_row=data["header_row"],
            headers=data["headers"],
            scales=data["scales"],
            ignored_columns=data["ignored_columns"],
            skipped=[SkippedLine(number, reason) for number, reason in data["skipped"]],
            members_sheet=data["members_sheet"],
            members_header_row=data["members_header_row"],
            member_count=data["member_count"],
            created=created,
            updated=updated,
            unchanged=unchanged,
            invalid=invalid,
            row_count=data["row_count"],
            errors=[
                RowError(row, [CellProblem(*p) for p in problems], sheet)
                for sheet, row, problems in data["errors"]
            ],
            warnings=[(row, text) for row, text in data["warnings"]],
            rows=[
                PreviewRow(number, Action(action), case, cells, members)
                for number, action, case, cells, members in data["rows"]
            ],
            confirm_missing=bool(data.get("confirm_missing")),
        )


def stored_preview(upload: PendingUpload) -> LedgerPreview | None:
    """The preview kept with an upload (None for one kept before previews were)."""
    return LedgerPreview.from_json(upload.preview) if upload.preview else None


def expired_upload() -> RuleViolation:
    return RuleViolation(
        _("This import has expired or was done already. Upload the file again."), "file"
    )


def upload_project(session: Session, upload: PendingUpload) -> ExpropriationProject:
    """The project an upload is for; RuleViolation when it is gone or out of the account's
    projects."""
    project = session.get(ExpropriationProject, upload.scope_id)
    if project is None:
        raise expired_upload()
    return project


def check_upload(
    session: Session, upload: PendingUpload, *, operator: User, progress: Progress | None = None
) -> LedgerPreview:
    """Check an uploaded ledger without importing it (a dry run writes nothing) and keep the
    preview with the upload."""
    project = upload_project(session, upload)
    report = import_households(
        session, project, upload.content, operator=operator, dry_run=True, progress=progress
    )
    preview = LedgerPreview.of(report)
    upload.preview = preview.to_json()
    return preview


def import_upload(
    session: Session,
    upload: PendingUpload,
    *,
    operator: User,
    skip_bad: bool,
    confirm_warnings: bool,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a previewed ledger (never commits). Saved: the upload is removed. Not saved (the
    project changed since the preview, or its warnings were not confirmed): nothing is
    written, and the upload keeps the new preview."""
    project = upload_project(session, upload)
    report = import_households(
        session,
        project,
        upload.content,
        operator=operator,
        skip_bad=skip_bad,
        confirm_warnings=confirm_warnings,
        progress=progress,
    )
    if report.saved:
        discard_upload(session, upload)
    else:
        upload.preview = LedgerPreview.of(
            report, confirm_missing=report.needs_confirmation
        ).to_json()
    return report
