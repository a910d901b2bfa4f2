"""Benchmark: backup and restore of 100,000 households, and what the audit chain costs a write.

Each database gets 100,000 households with two case steps each, an insert event (chained) for
every one of them (300,000 audit rows), and 1,000 archived documents of 60 KB (incompressible,
as PDFs are). Measured: `create_backup` (the file's size), `verify_backup` and
`restore_backup` into a fresh database. Then the chain: single audited writes (a household's
address changed and committed, one transaction each) with the chain as it is, and with the
chain's head lock and HMAC replaced by fixed values, side by side; and the HMAC alone.
On SQLite and, with BENCH_DATABASE_URL, PostgreSQL. Run: `python bench/bench_backup.py`.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from bench._data import audit_rows, fill, on_each_database  # noqa: E402
from resettle import create_app  # noqa: E402
from resettle.audit import services as audit_services  # noqa: E402
from resettle.audit.chain import GENESIS, chain_key, link  # noqa: E402
from resettle.backup.services import create_backup, restore_backup, verify_backup  # noqa: E402
from resettle.documents.models import ArchivedDocument  # noqa: E402
from resettle.extensions import db  # noqa: E402
from resettle.households.models import Household  # noqa: E402

HOUSEHOLDS = int(os.environ.get("BENCH_HOUSEHOLDS", "100000"))
DOCUMENTS = int(os.environ.get("BENCH_DOCUMENTS", "1000"))
WRITES = int(os.environ.get("BENCH_WRITES", "400"))


def _documents(conn: sa.Connection) -> None:
    rows = []
    for n in range(DOCUMENTS):
        content = hashlib.shake_256(str(n).encode()).digest(60_000)
        rows.append(
            {
                "pdf": content,
                "sha256": hashlib.sha256(content).hexdigest(),
                "size": len(content),
                "pages": 1,
                "notice_count": 1,
                "created_at": datetime.now(UTC),
            }
        )
    for start in range(0, len(rows), 100):
        conn.execute(sa.insert(ArchivedDocument), rows[start : start + 100])


def _writes(app, ids: list[int]) -> float:  # noqa: ANN001
    """p50 ms of one audited write: change a household's address, commit."""
    times = []
    with app.app_context():
        for n, household_id in enumerate(ids):
            start = time.perf_counter()
            household = db.session.get(Household, household_id)
            household.house_address = f"东城区解放路{n}号之二"
            db.session.commit()
            times.append((time.perf_counter() - start) * 1000)
        db.session.remove()
    return statistics.median(times)


def _unchained(connection: sa.Connection, rows: list[dict]) -> None:
    """The chain's place and HMAC as fixed values: no head lock, no HMAC (for comparison)."""
    for row in rows:
        row["chain_seq"] = next(_positions)
        row["chain_hmac"] = GENESIS


_positions = itertools.count(10**12)


def measure(url: str, label: str) -> bool:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with app.app_context():
            upgrade()
            with db.engine.begin() as conn:
                fill(conn, HOUSEHOLDS)
            with db.engine.begin() as conn:
                events = audit_rows(conn)
                _documents(conn)
            if db.engine.dialect.name == "postgresql":
                with db.engine.begin() as conn:
                    conn.exec_driver_sql("ANALYZE")
            backup = folder / "bench.backup"
            start = time.perf_counter()
            made = create_backup(backup)
            db.session.commit()
            created = time.perf_counter() - start
            start = time.perf_counter()
            verify_backup(backup)
            verified = time.perf_counter() - start
            db.session.remove()
        if url.startswith("sqlite"):
            target_url = f"sqlite:///{folder}/restored.sqlite3"
        else:
            from tests.dbs import fresh_database

            target_url = fresh_database("bench_backup_restored", folder)
        target = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": target_url})
        with target.app_context():
            start = time.perf_counter()
            restore_backup(backup)
            restored = time.perf_counter() - start
            households = db.session.scalar(sa.select(sa.func.count()).select_from(Household))
            db.session.remove()
            db.engine.dispose()
        print(
            f"{label}: {HOUSEHOLDS:,} households, {events:,} audit rows, {DOCUMENTS:,} documents"
            f" of 60 KB: backup {created:.1f} s, {made.size / 1e6:.1f} MB; verify {verified:.1f} s;"
            f" restore {restored:.1f} s ({households:,} households back)"
        )

        with app.app_context():
            ids = list(db.session.scalars(sa.select(Household.id).limit(WRITES * 2)))
            db.session.remove()
        chained = _writes(app, ids[:WRITES])
        real = audit_services.chain
        audit_services.chain = _unchained
        try:
            plain = _writes(app, ids[WRITES:])
        finally:
            audit_services.chain = real
        with app.app_context():
            key = chain_key(app.config)
        row = {
            "chain_seq": 1,
            "occurred_at": datetime.now(UTC),
            "user_id": 3,
            "actor": "cw1",
            "ip": "10.0.0.8",
            "request_id": "a" * 32,
            "action": "update",
            "entity_type": "Household",
            "entity_id": 4711,
            "changes": {"house_address": ["东城区解放路1号", "东城区解放路1号之二"]},
        }
        start = time.perf_counter()
        for _ in range(10_000):
            link(key, GENESIS, row)
        hmac_us = (time.perf_counter() - start) / 10_000 * 1e6
        print(
            f"{label}: one audited write (p50 of {WRITES}): chained {chained:.2f} ms, "
            f"without the chain {plain:.2f} ms, difference {chained - plain:+.2f} ms; "
            f"the HMAC of one row {hmac_us:.1f} µs"
        )
        with app.app_context():
            db.engine.dispose()
    return households == HOUSEHOLDS


if __name__ == "__main__":
    sys.exit(on_each_database(measure, "bench_backup"))
