"""A caseworker who clicks 确认导入 twice (or two tabs confirm the same preview) imports the
ledger once: one click imports it, the other is told it has been imported, and nothing is
stored twice or answers with an error page, on SQLite and on PostgreSQL."""

from __future__ import annotations

import io
import threading
from datetime import date

import pytest
import sqlalchemy as sa

from resettle.auth.models import Role, User
from resettle.extensions import db
from resettle.households.models import Household
from resettle.projects.models import ExpropriationProject
from resettle.spreadsheets.models import PendingUpload
from tests.conftest import TEST_PASSWORD, TEST_PASSWORD_HASH, migrated_app_for_threads
from tests.households.test_ledger_import import simple_ledger, valid_id
from tests.households.test_real_ledgers import _token

CLICKS = 3
ROWS = 40


@pytest.mark.no_transaction
def test_confirming_the_same_preview_at_once_imports_it_once(tmp_path):
    app = migrated_app_for_threads("import_clicks", tmp_path, CLICKS)
    with app.app_context():
        project = ExpropriationProject(
            code="DC01", name="双击项目", decision_date=date(2025, 3, 10)
        )
        db.session.add_all(
            [
                project,
                User(
                    username="clerk",
                    full_name="经办人",
                    role=Role.CASEWORKER,
                    password_hash=TEST_PASSWORD_HASH,
                    all_projects=True,
                ),
            ]
        )
        db.session.commit()
        project_id = project.id
        db.session.remove()

    ledger = simple_ledger(
        [[f"户主{n}", valid_id(n), f"幸福路{n}号", 50 + n] for n in range(ROWS)]
    ).getvalue()
    client = app.test_client()
    assert (
        client.post("/login", data={"username": "clerk", "password": TEST_PASSWORD}).status_code
        == 302
    )
    preview = client.post(
        "/households/import",
        data={"project_id": str(project_id), "ledger": (io.BytesIO(ledger), "台账.xlsx")},
        content_type="multipart/form-data",
    )
    token = _token(preview.get_data(as_text=True))
    cookie = client.get_cookie("session")

    barrier = threading.Barrier(CLICKS)
    answers: list[tuple[int, str]] = []

    def click() -> None:
        tab = app.test_client()
        tab.set_cookie(cookie.key, cookie.value)
        barrier.wait(timeout=30)
        response = tab.post("/households/import/confirm", data={"token": token})
        followed = (
            tab.get(response.headers["Location"]) if response.status_code == 302 else response
        )
        answers.append((response.status_code, followed.get_data(as_text=True)))

    threads = [threading.Thread(target=click) for _ in range(CLICKS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert [status for status, _page in answers] == [302] * CLICKS
    imported = [page for _status, page in answers if "导入完成" in page]
    told = [page for _status, page in answers if "本次导入已失效或已完成" in page]
    assert len(imported) == 1 and len(told) == CLICKS - 1
    with app.app_context():
        count = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Household)
            .where(Household.project_id == project_id)
        )
        assert count == ROWS
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingUpload)) == 0
        db.session.remove()
