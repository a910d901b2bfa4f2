"""The wall chart's A3 print as a background job: a long plan takes longer than a request may."""

from __future__ import annotations

import sqlalchemy as sa

from resettle import clock
from resettle.auth.models import User
from resettle.db import utcnow
from resettle.errors import RuleViolation
from resettle.extensions import db
from resettle.jobs.models import Job
from resettle.jobs.services import JobContext, job_kind, submit_job
from resettle.plans.gantt import render_gantt_pdf
from resettle.plans.models import Plan
from resettle.plans.services import load_plan
from resettle.plans.wallchart import chart_title, gantt_rows
from resettle.projects.models import ExpropriationProject
from resettle.translate import gettext as _

KIND = "gantt_pdf"


def _job_project(plan: Plan) -> int | None:
    """The project the print belongs to: the plan's own, or for an estate's plan a project
    using the estate that the account sees (the query is bounded by the request's scope);
    None for a template (seen only by accounts that see every project)."""
    if plan.project_id is not None:
        return plan.project_id
    if plan.site_id is None:
        return None
    return db.session.scalar(
        sa.select(ExpropriationProject.id)
        .where(ExpropriationProject.site_id == plan.site_id)
        .order_by(ExpropriationProject.id)
        .limit(1)
    )


def submit_gantt_print(plan: Plan, user: User) -> Job:
    """Start the A3 print of the plan's wall chart."""
    rows = len(plan.nodes)
    job = submit_job(
        KIND,
        title=_("Wall chart %(title)s (A3 PDF)", title=chart_title(plan)),
        user=user,
        project_id=_job_project(plan),
        params={"plan_id": plan.id},
        total=rows,
    )
    return job


@job_kind(KIND, retry_on_error=True)
def run_gantt_print(job: JobContext) -> None:
    """Render the wall chart on A3 pages as it stands now (reads only: tried again after a
    database error)."""
    plan = load_plan(db.session, int(job.params["plan_id"]))
    if plan is None:
        raise RuleViolation(_("This plan no longer exists."))
    rows = gantt_rows(plan)
    if not rows:
        raise RuleViolation(_("The plan has no scheduled dates to print yet."))
    pdf = render_gantt_pdf(rows, today=clock.today(), title=chart_title(plan), made_at=utcnow())
    job.progress(len(rows), len(rows))
    job.keep_file(pdf, f"plan-{plan.id}-A3.pdf", "application/pdf")
    job.say(_("The wall chart is printed: %(n)d nodes on A3 pages.", n=len(rows)))
