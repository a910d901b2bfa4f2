"""Staff logging in at the same moment (the office opens) all get in: a login counts the try
and so writes, and on SQLite concurrent ones queue on the write lock instead of failing with
"database is locked"."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from resettle.audit.models import AuditEvent
from resettle.auth.models import Role, User
from resettle.extensions import db
from tests.conftest import TEST_PASSWORD, TEST_PASSWORD_HASH, migrated_app_for_threads

STAFF = 6


@pytest.mark.no_transaction
def test_logins_at_the_same_moment_all_succeed(tmp_path):
    app = migrated_app_for_threads("logins", tmp_path, STAFF)
    with app.app_context():
        for n in range(STAFF):
            db.session.add(
                User(
                    username=f"staff{n}",
                    full_name=f"职员{n}",
                    role=Role.CASEWORKER,
                    password_hash=TEST_PASSWORD_HASH,
                )
            )
        db.session.commit()
        db.session.remove()

    barrier = threading.Barrier(STAFF)
    answers: list[int] = []

    def staff(n: int) -> None:
        client = app.test_client()
        barrier.wait(timeout=30)
        for _round in range(3):
            response = client.post(
                "/login", data={"username": f"staff{n}", "password": TEST_PASSWORD}
            )
            answers.append(response.status_code)
            client.post("/logout")

    threads = [threading.Thread(target=staff, args=(n,)) for n in range(STAFF)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert answers == [302] * (STAFF * 3)
    with app.app_context():
        logins = db.session.scalar(
            sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "login")
        )
        assert logins == STAFF * 3
