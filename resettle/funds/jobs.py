"""Fund work as background jobs: the fund plan's workbook (a project of many households takes
longer to plan than a request may)."""

from __future__ import annotations

from resettle.errors import RuleViolation
from resettle.extensions import db
from resettle.funds.excel import fund_plan_workbook
from resettle.funds.services import fund_plan
from resettle.jobs.services import JobContext, job_kind
from resettle.projects.models import ExpropriationProject
from resettle.spreadsheets.writing import XLSX_MIMETYPE
from resettle.translate import gettext as _


@job_kind("fund_plan_export", retry_on_error=True, entity="ExpropriationProject")
def export_fund_plan(job: JobContext) -> None:
    """The project's monthly fund plan as .xlsx."""
    project = db.session.get(ExpropriationProject, job.params["project_id"])
    if project is None:
        raise RuleViolation(_("This project no longer exists."))
    data = fund_plan_workbook(project, fund_plan(db.session, project))
    job.keep_file(data, f"fund-plan-{project.code}.xlsx", XLSX_MIMETYPE)
