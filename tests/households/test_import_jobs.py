"""A ledger of more rows than IMPORT_JOB_ROWS is checked and imported by background jobs: the
upload's job ends on the preview page, the confirmation's job on the import summary; a refused
job says why and writes nothing; exports are jobs whose file only their owner gets."""

from __future__ import annotations

import io

import openpyxl
import pytest
import sqlalchemy as sa

from resettle.auth.models import Role
from resettle.extensions import db
from resettle.households.models import Household
from resettle.spreadsheets.models import PendingUpload
from tests.households.test_ledger_import import households_of, simple_ledger, valid_id
from tests.jobs import job_file, job_status
from tests.supervision import msg


@pytest.fixture
def small_threshold(app):
    app.config["IMPORT_JOB_ROWS"] = 3
    yield
    app.config["IMPORT_JOB_ROWS"] = 300


def _rows(n: int) -> list[list]:
    return [[f"户主{i}", valid_id(i), f"幸福路{i}号", 50 + i] for i in range(1, n + 1)]


def _upload(client, project, source: io.BytesIO):
    return client.post(
        "/households/import",
        data={"project_id": str(project.id), "ledger": (source, "大台账.xlsx")},
        content_type="multipart/form-data",
    )


def _token(page: str) -> str:
    return page.split('name="token" type="hidden" value="')[1].split('"')[0]


def _uploads() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(PendingUpload))


def test_a_large_ledger_is_previewed_and_imported_by_jobs(
    client, login_as, make_project, small_threshold
):
    project = make_project()
    user = login_as(Role.CASEWORKER)

    preview_job = job_status(client, _upload(client, project, simple_ledger(_rows(8))))

    assert preview_job["state"] == "done", preview_job
    assert preview_job["total"] >= 8
    assert "/households/import/" in preview_job["result"]
    page = client.get(preview_job["result"]).get_data(as_text=True)
    assert 'data-testid="count-created">8<' in page
    assert "户主1" in page and valid_id(8) in page and "大台账.xlsx" in page
    assert households_of(project) == []  # only a preview so far

    confirm_job = job_status(
        client, client.post("/households/import/confirm", data={"token": _token(page)})
    )

    assert confirm_job["state"] == "done", confirm_job
    assert msg("Import finished: %(summary)s", summary="") in confirm_job["message"]
    assert confirm_job["result"].endswith(f"/households/?project={project.id}")
    households = households_of(project)
    assert [h.head_name for h in households] == [f"户主{i}" for i in range(1, 9)]
    assert {s.operator_id for h in households for s in h.steps} == {user.id}
    assert _uploads() == 0
    # Confirming again is refused at once: the file was imported and is gone.
    again = client.post("/households/import/confirm", data={"token": _token(page)})
    assert again.status_code == 302 and again.headers["Location"].endswith("/households/import")
    assert len(households_of(project)) == 8


def test_a_small_ledger_still_answers_at_once(client, login_as, make_project, small_threshold):
    project = make_project()
    login_as(Role.CASEWORKER)
    response = _upload(client, project, simple_ledger(_rows(2)))
    assert response.status_code == 200
    assert 'data-testid="count-created">2<' in response.get_data(as_text=True)


def test_a_large_ledger_with_bad_rows_shows_them_and_its_error_report(
    client, login_as, make_project, small_threshold
):
    project = make_project()
    login_as(Role.ADMIN)
    rows = _rows(6)
    rows[2][0] = ""  # row 4 of the sheet has no name
    status = job_status(client, _upload(client, project, simple_ledger(rows)))
    page = client.get(status["result"]).get_data(as_text=True)
    assert 'data-testid="import-errors"' in page and "请填写户主姓名。" in page
    assert 'data-testid="count-invalid">1<' in page

    report = client.get(f"/households/import/{_token(page)}/report.xlsx")

    assert report.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(report.data)).active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0][-1] == "错误说明"
    assert "请填写户主姓名" in values[3][-1] and values[2][-1] in (None, "")
    assert households_of(project) == []


def test_a_preview_refused_in_its_job_says_why_and_writes_nothing(
    app, client, login_as, make_project, small_threshold
):
    app.config["IMPORT_MAX_ROWS"] = 5
    try:
        project = make_project()
        login_as(Role.CASEWORKER)
        # (a sheet stops past the limit and the rows a title may take above the header)
        response = _upload(client, project, simple_ledger(_rows(40)))
        status = job_status(client, response)
        page = client.get(response.headers["Location"]).get_data(as_text=True)
    finally:
        app.config["IMPORT_MAX_ROWS"] = 20_000
    assert status["state"] == "failed" and status["result"] is None
    assert "5" in status["message"] and status["message"] in page
    assert msg("Failed") in page
    assert households_of(project) == []


def test_a_confirmation_whose_project_changed_imports_nothing_and_shows_why(
    client, login_as, make_project, make_household, small_threshold
):
    project = make_project()
    login_as(Role.CASEWORKER)
    rows = [[f"{project.code}-0100", *row] for row in _rows(5)]
    ledger = simple_ledger(
        rows, ["案卷号", "户主姓名", "身份证号码", "房屋坐落", "合法建筑面积(㎡)"]
    )
    page = client.get(job_status(client, _upload(client, project, ledger))["result"])
    token = _token(page.get_data(as_text=True))
    # Meanwhile someone registers a household under the case number the file gives.
    make_household(project=project, case_number=f"{project.code}-0100", head_id_number=valid_id(99))

    status = job_status(client, client.post("/households/import/confirm", data={"token": token}))

    assert status["state"] == "done" and "/households/import/" in status["result"]
    assert status["message"] == msg(
        "Nothing was imported: the project's households changed since the preview. "
        "Check the new preview and confirm again."
    )
    again = client.get(status["result"]).get_data(as_text=True)
    assert 'data-testid="import-errors"' in again and f"{project.code}-0100" in again
    assert [h.head_id_number for h in households_of(project)] == [valid_id(99)]
    assert _uploads() == 1  # the file is kept for a corrected try


def test_another_projects_account_gets_404_for_an_export_job_and_its_file(
    client, login_as, make_project, make_household
):
    project, other = make_project(), make_project()
    make_household(project=project, head_name="王五", head_id_number=valid_id(5))
    login_as(Role.CASEWORKER, projects=[project])
    response = client.get(f"/households/export?project={project.id}")
    status = job_status(client, response)
    download = client.get(status["result"])
    rows = list(
        openpyxl.load_workbook(io.BytesIO(download.data)).active.iter_rows(values_only=True)
    )
    assert [row[2] for row in rows[1:]] == ["王五"]

    client.post("/logout")
    login_as(Role.CASEWORKER, projects=[other])

    assert client.get(response.headers["Location"]).status_code == 404
    assert client.get(status["result"]).status_code == 404
    assert client.get(f"/households/export?project={project.id}").status_code == 404


def test_a_bounded_account_of_several_projects_chooses_the_one_to_export(
    client, login_as, make_project, make_household
):
    first, second = make_project(), make_project()
    make_household(project=first, head_id_number=valid_id(1))
    login_as(Role.LEADER, projects=[first, second])
    response = client.get("/households/export", follow_redirects=True)
    assert msg("Choose the project whose households to export.") in response.get_data(as_text=True)
    client.post("/logout")
    login_as(Role.LEADER, projects=[first])
    exported = job_file(client, client.get("/households/export"))
    sheet = openpyxl.load_workbook(io.BytesIO(exported.data)).active
    assert sheet.max_row == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Household)) == 1


def test_a_fund_plan_job_is_only_its_owners(client, login_as, make_project):
    project, other = make_project(), make_project()
    login_as(Role.LEADER, projects=[project])
    response = client.get(f"/funds/projects/{project.id}/plan.xlsx")
    download = job_file(client, response)
    assert download.data[:2] == b"PK"
    assert download.headers["Content-Disposition"].startswith("attachment")
    client.post("/logout")
    login_as(Role.LEADER, projects=[other])
    assert client.get(response.headers["Location"]).status_code == 404
    assert client.get(response.headers["Location"] + "/file").status_code == 404
    assert client.get(f"/funds/projects/{project.id}/plan.xlsx").status_code == 404
