"""Benchmark: the overdue list of 2,500 rows as PDF, side by side: made in one process, made as
the job makes it (laid out in parts by RENDER_PROCESSES processes and joined; target: at most
0.6 times the one-process time on 2 cores), and WeasyPrint alone rendering the same HTML saved
as a static file (target: the one-process time at most 1.2 times that); and one page of the
overdue list on screen at 100,000 households (target: under 500 ms), on SQLite and, when
BENCH_DATABASE_URL is set, on PostgreSQL.

Run from the repo root: `python bench/bench_overdue_pdf.py` (or `make bench`).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from weasyprint import HTML  # noqa: E402

from bench._data import fill  # noqa: E402
from resettle import create_app  # noqa: E402
from resettle.extensions import db  # noqa: E402
from resettle.households.models import Household, Stage  # noqa: E402
from resettle.pdf import FONT_CONFIG, render_html  # noqa: E402
from resettle.plans.models import Plan, PlanKind, PlanNode  # noqa: E402
from resettle.plans.services import app_calendar  # noqa: E402
from resettle.projects.models import ExpropriationProject  # noqa: E402
from resettle.supervision.exports import (  # noqa: E402
    OVERDUE_PDF_TEMPLATE,
    overdue_parts,
    overdue_pdf,
    overdue_pdf_context,
)
from resettle.supervision.levels import Level  # noqa: E402
from resettle.supervision.overdue import OverdueFilter, overdue_page  # noqa: E402

ROWS_HOUSEHOLDS = 832  # x 3 late stages + 3 plan nodes = 2,499 rows
TARGET_RATIO = 1.2
TARGET_PARALLEL = 0.6
BIG_HOUSEHOLDS = int(os.environ.get("BENCH_HOUSEHOLDS", "100000"))
PAGE_TARGET_MS = 500.0
TODAY = date(2025, 6, 18)
PROCESSES = max(min(os.cpu_count() or 1, 4), 2)
MADE_AT = datetime(2025, 6, 18, 2, 0)
NODES = (
    ("签约", Stage.SIGNED, date(2025, 6, 3), "区房屋征收事务所"),
    ("腾空交房", Stage.VACATED, date(2025, 6, 10), "街道办事处"),
    ("拆除", Stage.DEMOLISHED, date(2025, 6, 16), "拆除施工单位"),
)


def add_plan(session, project_id: int) -> None:
    plan = Plan(kind=PlanKind.PROJECT, name="基准计划", project_id=project_id)
    for position, (name, stage, deadline, unit) in enumerate(NODES):
        plan.nodes.append(
            PlanNode(
                key=f"k{position}",
                name=name,
                position=position,
                duration=1,
                stage=stage,
                planned_start=deadline,
                planned_finish=deadline,
                responsible_unit=unit,
                responsible_person="张建国",
                leader="周副区长",
            )
        )
    session.add(plan)


def median_time(action, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure_pdf(url: str, label: str) -> bool:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        project = ExpropriationProject(code="PDF1", name="逾期清单基准项目")
        db.session.add(project)
        db.session.flush()
        add_plan(db.session, project.id)
        db.session.execute(
            sa.insert(Household),
            [
                {
                    "project_id": project.id,
                    "case_number": f"PDF1-{n:04d}",
                    "head_name": "王李张刘陈杨黄赵"[n % 8] + "伟芳娜敏静丽强磊"[n % 7] + "明",
                    "head_id_number": f"{110101198001010000 + n:018d}",
                    "house_address": f"东城区解放路{n}号",
                    "legal_area": "85.00",
                    "unregistered_area": "0.00",
                    "house_use": "住宅",
                    "stage": Stage.APPRAISED.value,
                    "version_id": 1,
                }
                for n in range(ROWS_HOUSEHOLDS)
            ],
        )
        db.session.commit()
        calendar = app_calendar(db.session)
        with app.test_request_context():
            context = overdue_pdf_context(
                db.session, OverdueFilter(), TODAY, made_at=MADE_AT, calendar=calendar
            )
            rows = context["total"]
            html = render_html(
                OVERDUE_PDF_TEMPLATE,
                title=context["title"],
                made_at=MADE_AT,
                entries=overdue_parts(context),
            )
            with tempfile.TemporaryDirectory() as folder:
                static = Path(folder) / "overdue.html"
                static.write_text(html, encoding="utf-8")
                base = Path(app.static_folder).resolve().as_uri() + "/"

                def weasyprint_alone() -> None:
                    HTML(filename=str(static), base_url=base).write_pdf(font_config=FONT_CONFIG)

                def ours(processes: int) -> None:
                    app.config["RENDER_PROCESSES"] = processes
                    overdue_pdf(db.session, OverdueFilter(), TODAY, calendar=calendar)

                weasyprint_alone()  # warm both up (fonts, caches)
                alone = median_time(weasyprint_alone)
                single = median_time(lambda: ours(1))
                parallel = median_time(lambda: ours(PROCESSES))
        db.engine.dispose()
    ratio = single / alone
    speedup = parallel / single
    ok = ratio <= TARGET_RATIO and speedup <= TARGET_PARALLEL and rows >= 2400
    print(
        f"{label}: overdue list of {rows:,} rows as PDF: one process {single:.2f} s; as the job "
        f"makes it ({PROCESSES} processes, joined) {parallel:.2f} s, {speedup:.2f}x (target <= "
        f"{TARGET_PARALLEL}); WeasyPrint alone on the saved HTML {alone:.2f} s, one process "
        f"{ratio:.2f}x that (target <= {TARGET_RATIO}) {'PASS' if ok else 'FAIL'}"
    )
    return ok


def measure_page(url: str, label: str) -> bool:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        with db.engine.begin() as conn:
            seconds = fill(conn, BIG_HOUSEHOLDS)
        for project_id in db.session.scalars(sa.select(ExpropriationProject.id)):
            add_plan(db.session, project_id)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
        calendar = app_calendar(db.session)
        cases = {
            "first page": OverdueFilter(),
            "one unit": OverdueFilter(unit="街道办事处"),
            "督办 level": OverdueFilter(level=Level.SUPERVISE),
            "one project": OverdueFilter(project_id=1),
        }
        ok = True
        print(
            f"{label}: overdue list page at {BIG_HOUSEHOLDS:,} households "
            f"(filled in {seconds:.1f} s; target < {PAGE_TARGET_MS:.0f} ms)"
        )
        for name, filters in cases.items():
            times = []
            for _ in range(5):
                started = time.perf_counter()
                page = overdue_page(db.session, filters, TODAY, calendar=calendar)
                times.append((time.perf_counter() - started) * 1000)
            median = statistics.median(times)
            ok &= median < PAGE_TARGET_MS
            print(
                f"  {name:<12} {page.total:>8,} items  median {median:7.1f} ms  "
                f"{'PASS' if median < PAGE_TARGET_MS else 'FAIL'}"
            )
        started = time.perf_counter()
        app_calendar(db.session)
        calendar_ms = (time.perf_counter() - started) * 1000
        print(f"  (the working calendar, read once a request, adds {calendar_ms:.0f} ms)")
        db.session.remove()
        db.engine.dispose()
    return ok


def main() -> int:
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        ok &= measure_pdf(f"sqlite:///{tmp}/bench-overdue-pdf.sqlite3", "SQLite")
        ok &= measure_page(f"sqlite:///{tmp}/bench-overdue-page.sqlite3", "SQLite")
    if os.environ.get("BENCH_DATABASE_URL"):
        os.environ["TEST_DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
        from tests.dbs import fresh_database

        folder = Path(tempfile.gettempdir())
        ok &= measure_pdf(fresh_database("bench_overdue_pdf", folder), "PostgreSQL")
        ok &= measure_page(fresh_database("bench_overdue_page", folder), "PostgreSQL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
