"""The chained audit trail: every row written by the application verifies; a row changed, deleted
or cut off behind the application's back is named by `flask audit verify`; concurrent writers
never fork the chain."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa

from resettle.audit.chain import chain_key, verify
from resettle.audit.models import AuditChainHead, AuditEvent
from resettle.audit.services import acting_as, record_event
from resettle.auth.models import Role, User
from resettle.extensions import db
from resettle.projects.models import ExpropriationProject
from tests.audit import lift_audit_guard
from tests.conftest import TEST_PASSWORD_HASH, migrated_app_for_threads


def _verify(app: Any):
    return verify(db.session.connection(), chain_key(app.config))


def test_rows_the_application_writes_verify(app, make_household):
    household = make_household()
    household.head_name = "王五"
    db.session.flush()
    record_event(db.session, "export", "Household", household.id, {"rows": 1})
    db.session.add(AuditEvent(actor="orm", action="lookup", entity_type="Household"))
    db.session.flush()
    rows = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.chain_seq)).all()
    assert [r.chain_seq for r in rows] == list(range(1, len(rows) + 1))
    result = _verify(app)
    assert result.ok and result.rows == len(rows)
    head = db.session.get(AuditChainHead, 1)
    assert head.last_seq == rows[-1].chain_seq and head.last_hmac == rows[-1].chain_hmac


def test_a_rolled_back_write_leaves_no_gap(app, make_user):
    make_user()
    before = db.session.get(AuditChainHead, 1).last_seq
    savepoint = db.session.begin_nested()
    record_event(db.session, "export", "Household", None, {})
    savepoint.rollback()
    record_event(db.session, "export", "Household", None, {})
    assert db.session.get(AuditChainHead, 1).last_seq == before + 1
    assert _verify(app).ok


def _tamper(app: Any, sql: str, **params: Any) -> None:
    """Run `sql` on audit_events as the table's owner would, with the append-only guard off."""
    with db.engine.begin() as conn:
        lift_audit_guard(conn)
        conn.execute(sa.text(sql), params)


def _fill(app: Any, count: int) -> list[int]:
    """`count` committed audited changes; the ids of their audit rows in chain order."""
    with app.app_context(), acting_as("test"):
        for n in range(count):
            db.session.add(
                User(
                    username=f"clerk{n}",
                    full_name=f"职员{n}",
                    role=Role.CASEWORKER,
                    password_hash=TEST_PASSWORD_HASH,
                )
            )
            db.session.commit()
        ids = db.session.scalars(sa.select(AuditEvent.id).order_by(AuditEvent.chain_seq)).all()
        db.session.remove()
        return list(ids)


@pytest.mark.no_transaction
def test_flask_audit_verify_names_the_changed_deleted_or_cut_row(tmp_path):
    app = migrated_app_for_threads("chain_tamper", tmp_path, 1)
    ids = _fill(app, 8)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert f"{len(ids)} 条" in result.output

    with app.app_context():
        changed = ids[3]
        _tamper(app, "UPDATE audit_events SET actor = 'intruder' WHERE id = :id", id=changed)
        result = runner.invoke(args=["audit", "verify"])
        assert result.exit_code == 1
        assert f"审计记录 {changed}（链中第 4 条）" in result.output, result.output

        # the old value back: the row matches again
        _tamper(app, "UPDATE audit_events SET actor = 'test' WHERE id = :id", id=changed)
        assert runner.invoke(args=["audit", "verify"]).exit_code == 0

        _tamper(app, "DELETE FROM audit_events WHERE id = :id", id=ids[5])
        result = runner.invoke(args=["audit", "verify"])
        assert result.exit_code == 1
        assert "第 6 至 6 条" in result.output and str(ids[6]) in result.output, result.output

        _tamper(app, "DELETE FROM audit_events WHERE id >= :id", id=ids[5])
        result = runner.invoke(args=["audit", "verify"])
        assert result.exit_code == 1
        assert f"第 6 至 {len(ids)} 条" in result.output, result.output

        app.config["AUDIT_CHAIN_KEY"] = "another key"
        wrong = runner.invoke(args=["audit", "verify"])
        assert wrong.exit_code == 1 and "AUDIT_CHAIN_KEY" in wrong.output
        db.engine.dispose()


WRITERS = 6
ROUNDS = 15


@pytest.mark.no_transaction
def test_concurrent_writers_keep_one_chain(tmp_path):
    """Six threads commit audited changes and events at once: every one lands, in one chain."""
    app = migrated_app_for_threads("chain_writers", tmp_path, WRITERS)
    with app.app_context():
        db.session.add(ExpropriationProject(code="CH-1", name="链测试片区"))
        db.session.commit()
        start = db.session.get(AuditChainHead, 1).last_seq
        db.session.remove()
    barrier = threading.Barrier(WRITERS)
    failures: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            with app.app_context(), acting_as(f"writer{n}"):
                barrier.wait(timeout=30)
                for r in range(ROUNDS):
                    db.session.add(
                        User(
                            username=f"w{n}-{r}",
                            full_name="并发",
                            role=Role.LEADER,
                            password_hash=TEST_PASSWORD_HASH,
                        )
                    )
                    db.session.flush()
                    record_event(db.session, "export", "User", None, {"n": n, "r": r})
                    db.session.commit()
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001  (reported by the main thread)
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    with app.app_context():
        written = WRITERS * ROUNDS * 2
        head = db.session.get(AuditChainHead, 1)
        assert head.last_seq == start + written
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == (
            start + written
        )
        result = verify(db.session.connection(), chain_key(app.config))
        assert result.ok and result.rows == start + written
        db.session.remove()
        db.engine.dispose()
