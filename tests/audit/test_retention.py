"""Retention (issue 15, part 5): audit rows are kept at least 180 days; `flask audit prune`
removes older ones from the chain's beginning, and the chain still verifies from its new start;
a start moved without a pruning, or a pruning while the chain is broken, is refused or told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from config import ConfigError
from resettle import create_app
from resettle.audit.chain import chain_key, verify
from resettle.audit.models import AuditChainHead, AuditEvent
from resettle.audit.services import acting_as, record_event
from resettle.extensions import db
from tests.audit import lift_audit_guard
from tests.conftest import make_test_app
from tests.dbs import fresh_database

pytestmark = pytest.mark.no_transaction

OLD = datetime(2025, 1, 6, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize("days", ["1", "179", "-5", "half a year"])
def test_a_retention_below_180_days_refuses_to_start(days):
    with pytest.raises(ConfigError, match="AUDIT_RETENTION_DAYS"):
        create_app({"TESTING": True, "AUDIT_RETENTION_DAYS": days})


@pytest.mark.parametrize("days", ["0", "180", "3650"])
def test_zero_or_at_least_180_days_start(days):
    app = create_app({"TESTING": True, "AUDIT_RETENTION_DAYS": days})
    assert app.config["AUDIT_RETENTION_DAYS"] == int(days)


def _app_with_trail(purpose: str, tmp_path: Any, old: int, recent: int) -> Any:
    """An app whose audit trail starts with `old` rows from January 2025 (written before the
    chain existed, chained by its migration, as an installation upgraded in 2026 has them),
    then `recent` rows of now."""
    app = make_test_app(fresh_database(purpose, tmp_path))
    with app.app_context():
        upgrade(revision="0015")
        with db.engine.begin() as conn:
            for n in range(old):
                conn.execute(
                    sa.text(
                        "INSERT INTO audit_events (occurred_at, actor, action, entity_type,"
                        " changes) VALUES (:at, 'old', 'lookup', 'Household', '{}')"
                    ),
                    {"at": (OLD + timedelta(hours=n)).replace(tzinfo=None)},
                )
        upgrade()
        with acting_as("test"):
            for n in range(recent):
                record_event(db.session, "lookup", "Household", None, {"n": n})
            db.session.commit()
        db.session.remove()
    return app


def _cli(app: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=list(args))


def test_prune_removes_only_rows_past_the_retention_and_the_chain_still_verifies(tmp_path):
    app = _app_with_trail("prune", tmp_path, old=5, recent=4)
    app.config["AUDIT_RETENTION_DAYS"] = 180
    with app.app_context():
        total = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
        db.session.remove()
    result = _cli(app, "audit", "prune", "--yes")
    assert result.exit_code == 0, result.output
    assert "5 条" in result.output, result.output  # the five from January 2025
    with app.app_context():
        kept = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.chain_seq)).all()
        assert len(kept) == total - 5 + 1  # and the pruning itself
        assert all(e.occurred_at > OLD + timedelta(days=30) for e in kept)
        assert kept[-1].action == "audit_pruned"
        head = db.session.get(AuditChainHead, 1)
        assert head.base_seq == 5
        result = verify(db.session.connection(), chain_key(app.config))
        assert result.ok and result.rows == len(kept)
        db.session.remove()
    verified = _cli(app, "audit", "verify")
    assert verified.exit_code == 0 and "第 6 至" in verified.output, verified.output
    # nothing more is old enough: a second run removes nothing
    again = _cli(app, "audit", "prune", "--yes")
    assert again.exit_code == 0 and "0 条" in again.output
    # a date inside the retention period is refused
    recent = (datetime.now(UTC) - timedelta(days=10)).strftime("%Y-%m-%d")
    refused = _cli(app, "audit", "prune", "--yes", "--before", recent)
    assert refused.exit_code != 0 and "180" in refused.output
    with app.app_context():
        db.engine.dispose()


def test_prune_is_refused_without_retention_or_on_a_broken_chain(tmp_path):
    app = _app_with_trail("prune_refused", tmp_path, old=3, recent=1)
    result = _cli(app, "audit", "prune", "--yes")
    assert result.exit_code != 0 and "AUDIT_RETENTION_DAYS" in result.output
    app.config["AUDIT_RETENTION_DAYS"] = 365
    with app.app_context():
        with db.engine.begin() as conn:
            lift_audit_guard(conn)
            conn.execute(sa.text("UPDATE audit_events SET actor = 'forged' WHERE chain_seq = 3"))
        count = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
        db.session.remove()
    result = _cli(app, "audit", "prune", "--yes")
    assert result.exit_code != 0 and "链中第 3 条" in result.output, result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == count
        db.session.remove()
        db.engine.dispose()


def test_rows_deleted_from_the_beginning_without_a_pruning_are_told(tmp_path):
    app = _app_with_trail("prune_forged", tmp_path, old=3, recent=2)
    with app.app_context():
        with db.engine.begin() as conn:
            lift_audit_guard(conn)
            hmac = conn.execute(
                sa.text("SELECT chain_hmac FROM audit_events WHERE chain_seq = 3")
            ).scalar()
            conn.execute(sa.text("DELETE FROM audit_events WHERE chain_seq <= 3"))
            conn.execute(
                sa.text("UPDATE audit_chain SET base_seq = 3, base_hmac = :h"), {"h": hmac}
            )
        db.session.remove()
    result = _cli(app, "audit", "verify")
    assert result.exit_code == 1 and "第 3 条之后" in result.output, result.output
    with app.app_context():
        db.engine.dispose()
