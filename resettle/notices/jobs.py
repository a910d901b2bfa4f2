"""Notice batches as background jobs: numbered, rendered and archived off the web request."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from resettle.extensions import db
from resettle.households.models import Household
from resettle.jobs.services import JobContext, job_kind
from resettle.notices.models import NoticeType
from resettle.notices.services import (
    BatchInput,
    begin_numbering,
    glyph_warning,
    issue_batch,
)
from resettle.translate import gettext as _


def batch_params(
    project_id: int, notice_type: NoticeType, household_ids: list[int], data: BatchInput
) -> dict[str, Any]:
    """A batch's parameters as the job keeps them (JSON: dates as ISO strings)."""
    return {
        "project_id": project_id,
        "type": notice_type.value,
        "households": sorted(household_ids),
        "selection_at": data.selection_at.isoformat() if data.selection_at else None,
        "slot_minutes": data.slot_minutes,
        "deadline": data.deadline.isoformat() if data.deadline else None,
        "again": data.again,
    }


@job_kind("notice_batch")
def run_notice_batch(job: JobContext) -> None:
    """Number, render and archive the batch; the documents commit with the job's outcome, so a
    lost worker leaves no number used (and the job may be started again)."""
    params = job.params
    db.session.rollback()
    begin_numbering(db.session)
    households = list(
        db.session.scalars(
            sa.select(Household).where(
                Household.id.in_(params["households"] or [0]),
                Household.project_id == params["project_id"],
            )
        )
    )
    data = BatchInput(
        selection_at=datetime.fromisoformat(params["selection_at"])
        if params.get("selection_at")
        else None,
        slot_minutes=int(params.get("slot_minutes") or 0),
        deadline=date.fromisoformat(params["deadline"]) if params.get("deadline") else None,
        again=bool(params.get("again")),
    )
    document = issue_batch(
        db.session,
        households,
        NoticeType(params["type"]),
        data,
        user=job.user,
        progress=job.progress,
    )
    notices = list(document.notices)
    numbers = [n.number for n in notices]
    warnings = [w for n in notices if (w := glyph_warning(n.details))]
    job.progress(len(notices), len(notices))
    job.say(
        "\n".join(
            [
                _(
                    "%(n)d notices issued in one PDF: %(first)s to %(last)s.",
                    n=len(notices),
                    first=numbers[0],
                    last=numbers[-1],
                ),
                *warnings,
            ]
        )
    )
    job.link("notices.index", document=document.id)
