"""Notices issued at the same moment get consecutive numbers: no duplicates, no gaps, also when
some of the issues fail half-way (their numbers go back) — on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from resettle.documents.models import DocumentSequence
from resettle.errors import RuleViolation
from resettle.extensions import db
from resettle.households.models import Household, Stage
from resettle.notices import services
from resettle.notices.models import Notice, NoticeType
from resettle.notices.services import begin_numbering, issue_notice
from tests.conftest import migrated_app_for_threads
from tests.supervision import TODAY, add_household, add_plan, add_project

ISSUERS = 12
FAILING = {3, 7, 8}  # these issuers' PDFs fail after they got a number


@pytest.mark.no_transaction
def test_concurrent_issues_get_consecutive_numbers_without_gaps(tmp_path, monkeypatch):
    app = migrated_app_for_threads("notice_numbers", tmp_path, ISSUERS)
    with app.app_context():
        project = add_project(db.session)
        add_plan(
            db.session,
            project=project,
            nodes=[{"name": "签约", "stage": Stage.SIGNED, "deadline": TODAY}],
        )
        household_ids = [
            add_household(
                db.session,
                project,
                stage=Stage.APPRAISED,
                head_name=("失败户" if n in FAILING else "住户") + str(n),
            ).id
            for n in range(ISSUERS)
        ]
        db.session.commit()
        db.session.remove()

    real_render = services.render_notices

    def render_or_fail(entries, **kwargs):
        if entries[0]["n"]["head_name"].startswith("失败户"):
            time.sleep(0.05)  # hold the number a moment, then fail
            raise OSError("the PDF could not be written")
        return real_render(entries, **kwargs)

    monkeypatch.setattr(services, "render_notices", render_or_fail)
    barrier = threading.Barrier(ISSUERS)
    outcomes: dict[int, object] = {}

    def issuer(household_id: int) -> None:
        with app.test_request_context():
            try:
                barrier.wait(timeout=30)
                begin_numbering(db.session)
                household = db.session.get(Household, household_id)
                notice = issue_notice(
                    db.session, household, NoticeType.SIGNING, user=None, today=TODAY
                )
                number = notice.number
                db.session.commit()
                outcomes[household_id] = number
            except (RuleViolation, OSError, sa.exc.SQLAlchemyError) as exc:
                db.session.rollback()
                outcomes[household_id] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=issuer, args=(h,)) for h in household_ids]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    elapsed = time.perf_counter() - started

    assert len(outcomes) == ISSUERS, "an issuer did not finish"
    failed = {h for h, o in outcomes.items() if not isinstance(o, str)}
    assert failed == {household_ids[n] for n in FAILING}
    assert all(isinstance(outcomes[h], OSError) for h in failed), outcomes  # no lock errors
    issued = sorted(o for o in outcomes.values() if isinstance(o, str))
    assert len(set(issued)) == len(issued) == ISSUERS - len(FAILING)
    assert elapsed < 60

    with app.app_context():
        sequences = db.session.scalars(sa.select(Notice.sequence).order_by(Notice.sequence)).all()
        assert sequences == list(range(1, ISSUERS - len(FAILING) + 1))  # consecutive, no gap
        assert db.session.scalar(
            sa.select(DocumentSequence.last_number).where(
                DocumentSequence.type == NoticeType.SIGNING, DocumentSequence.year == TODAY.year
            )
        ) == ISSUERS - len(FAILING)
        numbers = set(db.session.scalars(sa.select(Notice.number)))
        assert numbers == set(issued)
        db.session.remove()
        db.engine.dispose()
