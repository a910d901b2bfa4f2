"""Benchmark: import a 10,000-household Excel ledger into a fresh database; target under 10 s.

Run from the repository root: ``python bench/bench_import.py [--rows N]``. It uses a new SQLite
file, and also PostgreSQL when BENCH_DATABASE_URL names a server database to create a scratch
database next to (e.g. postgresql://postgres@127.0.0.1:5432/resettle).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import openpyxl  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from stdnum.cn import ric  # noqa: E402

from config import normalise_database_url  # noqa: E402
from resettle import create_app  # noqa: E402
from resettle.audit.services import acting_as  # noqa: E402
from resettle.extensions import db  # noqa: E402
from resettle.households.excel import COLUMNS, import_households  # noqa: E402
from resettle.households.models import Household  # noqa: E402
from resettle.projects.models import ExpropriationProject  # noqa: E402

TARGET_SECONDS = 10.0
MODES = ["货币补偿", "产权调换", "货币+产权调换", None]


def id_number(n: int) -> str:
    """A distinct valid resident ID number for each n < 20,000,000."""
    birth = date(1940, 1, 1) + timedelta(days=n % 20_000)
    body = f"110105{birth:%Y%m%d}{n // 20_000 % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def build_ledger(path: Path, rows: int) -> None:
    """A ledger as an office sends it: a title row, then the header, then one row per household."""
    workbook = openpyxl.Workbook(write_only=True)
    ws = workbook.create_sheet("调查登记表")
    ws.append(["解放路片区被征收房屋调查登记表"])
    ws.append([c.header for c in COLUMNS])
    seen: set[str] = set()
    for n in range(rows):
        number = id_number(n)
        assert number not in seen
        seen.add(number)
        area = Decimal(60 + n % 90) + Decimal(n % 100) / 100
        price = Decimal(9000 + n % 3000)
        ws.append(
            [
                None,
                f"户主{n}",
                number,
                f"138{n:08d}",
                f"东城区解放路{n // 20 + 1}号{n % 20 + 1}室",
                area,
                Decimal(n % 7),
                "住宅",
                MODES[n % 4],
                price,
                (area * price).quantize(Decimal("0.01")),
                date(2024, 1, 1) + timedelta(days=n % 300),
                n + 1,
                None,
            ]
        )
    workbook.save(path)


def run(url: str, ledger: Path, rows: int) -> float:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        project = ExpropriationProject(code="BENCH", name="导入基准测试")
        db.session.add(project)
        db.session.commit()
        with acting_as("bench"):
            started = time.perf_counter()
            report = import_households(db.session, project, ledger, operator=None)
            db.session.commit()
            elapsed = time.perf_counter() - started
        if report.errors:
            raise SystemExit(f"the ledger has errors: {report.errors[:3]}")
        stored = db.session.scalar(sa.select(sa.func.count()).select_from(Household))
        assert report.created == rows == stored, (report.created, rows, stored)
        started = time.perf_counter()
        again = import_households(db.session, project, ledger, operator=None, dry_run=True)
        recheck = time.perf_counter() - started
        assert again.unchanged == rows
        db.session.remove()
        db.engine.dispose()
    print(f"  re-import check (all unchanged): {recheck:.2f} s")
    return elapsed


def postgres_scratch(base_url: str) -> tuple[str, sa.Engine, str]:
    base = sa.make_url(normalise_database_url(base_url))
    name = f"{base.database}_bench_import"
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    return base.set(database=name).render_as_string(hide_password=False), admin, name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        ledger = Path(tmp) / "ledger.xlsx"
        started = time.perf_counter()
        build_ledger(ledger, args.rows)
        print(
            f"ledger: {args.rows} rows, {ledger.stat().st_size / 1e6:.1f} MB, "
            f"built in {time.perf_counter() - started:.1f} s"
        )
        targets = [("sqlite", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")]
        scratch = None
        if os.environ.get("BENCH_DATABASE_URL"):
            url, admin, name = postgres_scratch(os.environ["BENCH_DATABASE_URL"])
            scratch = (admin, name)
            targets.append(("postgresql", url))
        try:
            for label, url in targets:
                print(f"{label}:")
                elapsed = run(url, ledger, args.rows)
                verdict = "PASS" if elapsed < TARGET_SECONDS else "FAIL"
                failed |= verdict == "FAIL"
                print(
                    f"  import of {args.rows} households: {elapsed:.2f} s "
                    f"(target < {TARGET_SECONDS:.0f} s) {verdict}"
                )
        finally:
            if scratch:
                admin, name = scratch
                with admin.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
