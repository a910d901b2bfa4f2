"""A published disclosure's PDF, rendered once in a job (never on a public request)."""

from __future__ import annotations

from resettle.auth.models import User
from resettle.disclosure.models import Disclosure
from resettle.disclosure.services import store_disclosure_pdf
from resettle.errors import RuleViolation
from resettle.extensions import db
from resettle.jobs.models import Job
from resettle.jobs.services import JobContext, job_kind, submit_job
from resettle.translate import gettext as _

KIND = "disclosure_pdf"


def submit_disclosure_pdf(disclosure: Disclosure, user: User) -> Job:
    """Start the job that renders and stores the disclosure's PDF."""
    job = submit_job(
        KIND,
        title=_("PDF of the disclosure %(title)s", title=disclosure.title),
        user=user,
        project_id=disclosure.project_id,
        params={"disclosure_id": disclosure.id},
        total=1,
    )
    return job


@job_kind(KIND)
def run_disclosure_pdf(job: JobContext) -> None:
    """Render the disclosure's PDF and store it with its SHA-256 (kept as it is when made
    already, so a second job changes nothing)."""
    disclosure = db.session.get(Disclosure, int(job.params["disclosure_id"]))
    if disclosure is None:
        raise RuleViolation(_("This disclosure no longer exists."))
    stored = store_disclosure_pdf(db.session, disclosure, user=job.user)
    job.progress(1, 1)
    job.say(
        _(
            "The PDF of the disclosure is ready (%(size)s bytes, SHA-256 %(sha)s).",
            size=f"{stored.size:,}",
            sha=stored.sha256,
        )
    )
    job.link("disclosure.detail", disclosure_id=disclosure.id)
