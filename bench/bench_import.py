"""Benchmark: import a 10,000-household ledger, as .xlsx and as .xls (with a members sheet),
into a fresh database; target under 10 s each. Also measured: the peak memory of checking a
ledger at the 20,000-row limit and of refusing a 100,000-row one, and how fast a zip bomb
(2,000,000 rows in a few hundred KB) is refused.

Run from the repository root: ``python bench/bench_import.py [--rows N]``. It uses a new SQLite
file, and also PostgreSQL when BENCH_DATABASE_URL names a server database to create a scratch
database next to (e.g. postgresql://postgres@127.0.0.1:5432/resettle).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import openpyxl  # noqa: E402
import sqlalchemy as sa  # noqa: E402
import xlwt  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from stdnum.cn import ric  # noqa: E402

from config import normalise_database_url  # noqa: E402
from resettle import create_app  # noqa: E402
from resettle.audit.services import acting_as  # noqa: E402
from resettle.errors import RuleViolation  # noqa: E402
from resettle.extensions import db  # noqa: E402
from resettle.households.ledger import COLUMNS, import_households  # noqa: E402
from resettle.households.models import Household  # noqa: E402
from resettle.projects.models import ExpropriationProject  # noqa: E402
from tests.workbooks import zip_bomb  # noqa: E402

TARGET_SECONDS = 10.0
MODES = ["货币补偿", "产权调换", "货币+产权调换", None]


def id_number(n: int) -> str:
    """A distinct valid resident ID number for each n < 20,000,000."""
    birth = date(1940, 1, 1) + timedelta(days=n % 20_000)
    body = f"110105{birth:%Y%m%d}{n // 20_000 % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def ledger_rows(rows: int):
    """The title, the header, then one row per household, as an office sends its ledger."""
    yield ["解放路片区被征收房屋调查登记表"]
    yield [c.header for c in COLUMNS]
    seen: set[str] = set()
    for n in range(rows):
        number = id_number(n)
        assert number not in seen
        seen.add(number)
        area = Decimal(60 + n % 90) + Decimal(n % 100) / 100
        price = Decimal(9000 + n % 3000)
        yield [
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


def member_rows(rows: int):
    """The members sheet: a spouse for every second household."""
    yield ["户主身份证号", "成员姓名", "与户主关系", "身份证号码"]
    for n in range(0, rows, 2):
        yield [id_number(n), f"配偶{n}", "配偶", id_number(n + 10_000_000)]


def build_ledger(path: Path, rows: int) -> None:
    """The ledger as .xlsx."""
    workbook = openpyxl.Workbook(write_only=True)
    ws = workbook.create_sheet("调查登记表")
    for row in ledger_rows(rows):
        ws.append(row)
    members = workbook.create_sheet("家庭成员")
    for row in member_rows(rows):
        members.append(row)
    workbook.save(path)


def build_xls(path: Path, rows: int) -> None:
    """The same ledger as .xls (Excel 97-2003, what WPS saves by default)."""
    book = xlwt.Workbook(encoding="utf-8")
    dates = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    for title, source in (("调查登记表", ledger_rows(rows)), ("家庭成员", member_rows(rows))):
        ws = book.add_sheet(title)
        for r, row in enumerate(source):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, date):
                    ws.write(r, c, value, dates)
                else:
                    ws.write(r, c, float(value) if isinstance(value, Decimal) else value)
    book.save(str(path))


def child(path: Path) -> None:
    """Check one file in this (fresh) process and print seconds, peak memory and outcome."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.app_context():
        upgrade()
        project = ExpropriationProject(code="MEM", name="内存测试")
        db.session.add(project)
        db.session.flush()
        before = _memory("VmRSS")
        started = time.perf_counter()
        try:
            report = import_households(db.session, project, path, operator=None, dry_run=True)
            outcome = f"checked {len(report.rows)} rows"
        except RuleViolation as exc:
            outcome = f"refused: {exc.message[:60]}"
        elapsed = time.perf_counter() - started
        peak = _memory("VmHWM")
    print(f"{elapsed:.2f}\t{peak / 1024:.0f}\t{(peak - before) / 1024:.0f}\t{outcome}")


def _memory(field: str) -> int:
    """A figure of /proc/self/status in KB (VmHWM: the peak resident size of this process;
    getrusage's ru_maxrss would include the parent's peak from before the exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(field)


def measure(path: Path, label: str) -> None:
    result = subprocess.run(
        [sys.executable, __file__, "--child", str(path)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "RESETTLE_ENV": "testing"},
    )
    seconds, peak, growth, outcome = result.stdout.strip().splitlines()[-1].split("\t")
    print(f"  {label}: {seconds} s, peak {peak} MB (+{growth} MB while reading), {outcome}")


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
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return 0
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for suffix, build in ((".xlsx", build_ledger), (".xls", build_xls)):
            ledger = Path(tmp) / f"ledger{suffix}"
            started = time.perf_counter()
            build(ledger, args.rows)
            print(
                f"ledger {suffix}: {args.rows} rows + {args.rows // 2} members, "
                f"{ledger.stat().st_size / 1e6:.1f} MB, built in {time.perf_counter() - started:.1f} s"
            )
            files.append((suffix, ledger))
        targets = [("sqlite", Path(tmp) / "bench-{}.sqlite3")]
        scratch = None
        if os.environ.get("BENCH_DATABASE_URL"):
            url, admin, name = postgres_scratch(os.environ["BENCH_DATABASE_URL"])
            scratch = (admin, name)
            targets.append(("postgresql", url))
        try:
            for label, where in targets:
                for suffix, ledger in files:
                    if label == "sqlite":
                        url = f"sqlite:///{str(where).format(suffix[1:])}"
                    else:
                        url = where
                        reset_postgres(url)
                    print(f"{label}, {suffix}:")
                    elapsed = run(url, ledger, args.rows)
                    verdict = "PASS" if elapsed < TARGET_SECONDS else "FAIL"
                    failed |= verdict == "FAIL"
                    print(
                        f"  import of {args.rows} households: {elapsed:.2f} s = "
                        f"{args.rows / elapsed:,.0f} rows/s (target < {TARGET_SECONDS:.0f} s) "
                        f"{verdict}"
                    )
        finally:
            if scratch:
                admin, name = scratch
                with admin.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
        print("limits (each in a fresh process, checked without saving):")
        at_limit = Path(tmp) / "limit.xlsx"
        build_ledger(at_limit, 20_000)
        measure(at_limit, "20,000 rows (the limit)")
        over = Path(tmp) / "over.xlsx"
        build_ledger(over, 100_000)
        measure(over, "100,000 rows")
        bomb = Path(tmp) / "bomb.xlsx"
        bomb.write_bytes(zip_bomb([c.header for c in COLUMNS], 2_000_000))
        measure(bomb, f"zip bomb, 2,000,000 rows in {bomb.stat().st_size / 1024:.0f} KB")
    return 1 if failed else 0


def reset_postgres(url: str) -> None:
    """An empty schema for the next file's run."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
