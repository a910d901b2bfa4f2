"""A rush of residents: lookups at the same moment on real connections each get their answer
and each leave their audit row (on SQLite the lookups queue on the write lock, taken at BEGIN,
instead of failing with "database is locked")."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from resettle.audit.models import AuditEvent
from resettle.extensions import db
from tests.conftest import migrated_app_for_threads
from tests.sites import add_household, add_project

RESIDENTS = 12
ROUNDS = 5


@pytest.mark.no_transaction
def test_concurrent_lookups_all_answer_and_are_all_audited(tmp_path):
    app = migrated_app_for_threads("lookups", tmp_path, RESIDENTS)
    with app.app_context():
        project = add_project(db.session)
        cases = [
            (h.case_number, h.head_id_number[-6:])
            for h in (add_household(db.session, project, order=n) for n in range(1, RESIDENTS + 1))
        ]
        db.session.commit()
        db.session.remove()

    barrier = threading.Barrier(RESIDENTS)
    answers: list[tuple[int, bool]] = []

    def resident(case_number: str, suffix: str) -> None:
        client = app.test_client()
        barrier.wait(timeout=30)
        for n in range(ROUNDS):
            wrong = n == ROUNDS - 1  # the last try with a wrong suffix
            response = client.post(
                "/public/status",
                data={"case_number": case_number, "id_suffix": "000000" if wrong else suffix},
            )
            found = 'data-testid="current-stage"' in response.get_data(as_text=True)
            answers.append((response.status_code, found == (not wrong)))

    threads = [threading.Thread(target=resident, args=case) for case in cases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert answers == [(200, True)] * (RESIDENTS * ROUNDS)
    with app.app_context():
        rows = db.session.execute(
            sa.select(AuditEvent.changes).where(AuditEvent.action == "lookup")
        ).all()
        assert len(rows) == RESIDENTS * ROUNDS
        assert sum(1 for (changes,) in rows if changes["found"][1]) == RESIDENTS * (ROUNDS - 1)
        db.session.remove()
        db.engine.dispose()
