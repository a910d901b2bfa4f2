"""A disclosure's PDF is rendered once, by a job started when it is published (owned by who
published it); a disclosure published before PDFs were kept gets one from a button or from
`flask disclosures pdfs`."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from resettle import clock
from resettle.auth.models import Role
from resettle.disclosure.models import DisclosureKind, DisclosurePdf
from resettle.disclosure.services import (
    DisclosureData,
    approve_disclosure,
    disclosures_missing_pdf,
    prepare_disclosure,
    stored_pdf,
)
from resettle.extensions import db
from resettle.households.models import CaseStep, Stage
from resettle.jobs.models import Job, JobState
from tests.pdf import pdf_text

TODAY = date(2025, 7, 1)


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr(clock, "today", lambda: TODAY)


@pytest.fixture
def draft(make_household, make_user):
    household = make_household(head_name="欧阳娜娜", stage=Stage.APPRAISED)
    household.steps.append(CaseStep(stage=Stage.SURVEYED, actual_date=date(2025, 4, 1)))
    db.session.flush()
    return prepare_disclosure(
        db.session,
        household.project,
        DisclosureData(
            kind=DisclosureKind.SURVEY,
            title="调查登记结果公示",
            period_start=TODAY,
            period_end=TODAY + timedelta(days=10),
        ),
        user=make_user(Role.CASEWORKER),
        today=TODAY,
    )


def test_publishing_starts_the_job_that_renders_and_stores_the_pdf(client, login_as, draft):
    supervisor = login_as(Role.SUPERVISOR)
    assert stored_pdf(db.session, draft.id) is None
    response = client.post(f"/disclosures/{draft.id}/approve", follow_redirects=True)
    assert "已发布" in response.get_data(as_text=True)
    job = db.session.scalars(sa.select(Job).where(Job.kind == "disclosure_pdf")).one()
    assert job.user_id == supervisor.id and job.project_id == draft.project_id
    assert job.params == {"disclosure_id": draft.id} and job.state == JobState.DONE
    stored = stored_pdf(db.session, draft.id)
    assert stored is not None and stored.rendered_by_id == supervisor.id
    assert stored.sha256 == hashlib.sha256(stored.pdf).hexdigest() and stored.sha256 in job.message
    assert "欧**娜" in pdf_text(stored.pdf) and "欧阳娜娜" not in pdf_text(stored.pdf)
    page = client.get(f"/disclosures/{draft.id}").get_data(as_text=True)
    assert stored.sha256 in page  # the staff page shows the PDF's fingerprint
    assert f"/disclosures/{draft.id}/pdf/make" not in page  # no button: it is made


def test_a_disclosure_published_without_a_pdf_gets_one_from_the_button(
    client, login_as, draft, make_user
):
    approve_disclosure(db.session, draft, user=make_user(Role.SUPERVISOR), today=TODAY)
    assert disclosures_missing_pdf(db.session) == [draft]
    caseworker = login_as(Role.CASEWORKER)
    page = client.get(f"/disclosures/{draft.id}").get_data(as_text=True)
    assert f'action="/disclosures/{draft.id}/pdf/make"' in page
    response = client.post(f"/disclosures/{draft.id}/pdf/make")
    assert response.status_code == 303
    status = client.get(response.location, headers={"Accept": "application/json"}).json
    assert status["state"] == "done" and status["result"].endswith(f"/disclosures/{draft.id}")
    assert stored_pdf(db.session, draft.id).rendered_by_id == caseworker.id
    assert disclosures_missing_pdf(db.session) == []
    # asked again: nothing new is rendered, the PDF stays the one the public was served
    first = stored_pdf(db.session, draft.id).sha256
    again = client.post(f"/disclosures/{draft.id}/pdf/make")
    assert again.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DisclosurePdf)) == 1
    assert stored_pdf(db.session, draft.id).sha256 == first


def test_a_draft_has_no_pdf_button_and_no_pdf(client, login_as, draft):
    login_as(Role.SUPERVISOR)
    page = client.get(f"/disclosures/{draft.id}").get_data(as_text=True)
    assert f"/disclosures/{draft.id}/pdf/make" not in page
    client.post(f"/disclosures/{draft.id}/pdf/make")
    assert stored_pdf(db.session, draft.id) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Job)) == 0


def test_the_cli_renders_the_missing_pdfs(app, draft, make_user):
    approve_disclosure(db.session, draft, user=make_user(Role.SUPERVISOR), today=TODAY)
    result = app.test_cli_runner().invoke(args=["disclosures", "pdfs"])
    assert result.exit_code == 0, result.output
    stored = stored_pdf(db.session, draft.id)
    assert stored is not None and stored.sha256 in result.output
    assert disclosures_missing_pdf(db.session) == []
    again = app.test_cli_runner().invoke(args=["disclosures", "pdfs"])
    assert again.exit_code == 0 and stored.sha256 not in again.output
