"""Benchmark: a 1,000-notice batch (signing reminders, through issue_batch) rendered in one
process and in two (parallel and pipelined: the parts render while the next households are
checked), beside WeasyPrint alone on the same static HTML in one process and in two joined
with pypdf (the floor). Target: two processes take at most 0.6 of one (b/a ≤ 0.6, 2 cores).
On SQLite and, when BENCH_DATABASE_URL is set, on PostgreSQL.

Run from the repo root: `python bench/bench_parallel.py` (BENCH_NOTICES to change the size).
"""

from __future__ import annotations

import io
import logging
import multiprocessing
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402
from pypdf import PdfReader  # noqa: E402
from weasyprint import HTML  # noqa: E402

from bench.bench_notices_batch import NOTICES, TODAY  # noqa: E402
from bench.bench_notices_batch import setup as setup_households  # noqa: E402
from resettle import create_app  # noqa: E402
from resettle.chinese import in_chinese  # noqa: E402
from resettle.documents.rendering import (  # noqa: E402
    DOCUMENT_TEMPLATE,
    RenderedChunk,
    join_chunks,
    with_qr,
)
from resettle.extensions import db  # noqa: E402
from resettle.households.models import Household  # noqa: E402
from resettle.notices.models import NoticeType  # noqa: E402
from resettle.notices.services import begin_numbering, issue_batch  # noqa: E402
from resettle.notices.types import TEMPLATES  # noqa: E402
from resettle.pdf import (  # noqa: E402
    FONT_CONFIG,
    PDF_VARIANT_ARCHIVE,
    render_html,
    url_fetcher_for_app,
)

TARGET_RATIO = 0.6
_HTML: list[str] = []  # the static halves the forked processes of (d) render
_BASE_URL = ""


def _batch(app, processes: int) -> tuple[float, int, list[dict]]:
    """Seconds for the whole issue with `processes`, the pages, and what it printed."""
    app.config["RENDER_PROCESSES"] = processes
    with app.test_request_context(base_url="https://zhengqian.example.gov.cn"):
        cpu = os.times()
        started = time.perf_counter()
        begin_numbering(db.session)
        households = list(db.session.scalars(sa.select(Household)))
        document = issue_batch(db.session, households, NoticeType.SIGNING, user=None, today=TODAY)
        db.session.flush()
        elapsed = time.perf_counter() - started
        after = os.times()
        mine = after.user + after.system - cpu.user - cpu.system
        workers = (
            after.children_user + after.children_system - cpu.children_user - cpu.children_system
        )
        print(
            f"  {processes} process(es): {elapsed:.1f} s; CPU {mine:.1f} s in this process, "
            f"{workers:.1f} s in workers"
        )
        pages = document.pages
        entries = [
            {
                "template": TEMPLATES[n.type],
                "n": dict(n.details),
                "qr_text": n.details["verify_url"],
            }
            for n in sorted(document.notices, key=lambda n: n.sequence)
        ]
        db.session.rollback()  # the next run gets the same numbers
    return elapsed, pages, entries


def _weasyprint(html: str) -> bytes:
    """WeasyPrint alone: a static HTML string laid out and written as PDF/A-3b."""
    document = HTML(string=html, base_url=_BASE_URL, url_fetcher=url_fetcher_for_app(_APP))
    return document.render(font_config=FONT_CONFIG, pdf_variant=PDF_VARIANT_ARCHIVE).write_pdf(
        pdf_variant=PDF_VARIANT_ARCHIVE
    )


def _weasyprint_half(index: int) -> tuple[bytes, int]:
    with _APP.app_context():
        pdf = _weasyprint(_HTML[index])
    return pdf, len(PdfReader(io.BytesIO(pdf)).pages)


_APP = None


def _alone(app, entries: list[dict]) -> tuple[float, float]:
    """(c) and (d): WeasyPrint alone on the batch's static HTML, in one process and in two."""
    global _BASE_URL
    made_at = datetime.now(UTC)
    with app.test_request_context(), in_chinese():
        _BASE_URL = Path(app.static_folder).resolve().as_uri() + "/"
        prepared = [with_qr(entry) for entry in entries]
        whole = render_html(
            DOCUMENT_TEMPLATE, title="签约催告通知书", made_at=made_at, entries=prepared
        )
        half = len(prepared) // 2
        _HTML[:] = [
            render_html(
                DOCUMENT_TEMPLATE,
                title="签约催告通知书",
                made_at=made_at,
                entries=part,
                first_part=first,
                pdf_page_counter="none",
            )
            for first, part in ((0, prepared[:half]), (half, prepared[half:]))
        ]
        started = time.perf_counter()
        _weasyprint(whole)
        alone = time.perf_counter() - started
        started = time.perf_counter()
        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
            halves = list(pool.map(_weasyprint_half, (0, 1)))
        join_chunks([RenderedChunk(0, pdf, pages, [1]) for pdf, pages in halves])
        alone_two = time.perf_counter() - started
    return alone, alone_two


def measure(url: str, label: str) -> bool:
    global _APP
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    _APP = app
    with app.app_context():
        setup_households()
        logging.getLogger("resettle.documents.rendering").disabled = False  # alembic's fileConfig
        load = os.getloadavg()[0]
        one, pages_one, entries = _batch(app, 1)
        two, pages_two, _entries = _batch(app, 2)
        alone = alone_two = float("nan")
        if os.environ.get("BENCH_ALONE", "1") != "0":  # BENCH_ALONE=0 leaves (c) and (d) out
            alone, alone_two = _alone(app, entries)
        db.session.remove()
        db.engine.dispose()
    ratio = two / one
    ok = ratio <= TARGET_RATIO and pages_one == pages_two >= NOTICES
    print(
        f"{label}: {NOTICES:,} signing reminders, {pages_one:,} pages "
        f"(load average {load:.1f} at the start, {os.cpu_count()} cores)\n"
        f"  (a) issue_batch, 1 process:             {one:6.1f} s\n"
        f"  (b) issue_batch, 2 processes pipelined: {two:6.1f} s   b/a = {ratio:.2f} "
        f"(target ≤ {TARGET_RATIO}) {'PASS' if ok else 'FAIL'}\n"
        f"  (c) WeasyPrint alone, 1 process:        {alone:6.1f} s\n"
        f"  (d) WeasyPrint alone, 2 + pypdf join:   {alone_two:6.1f} s   d/c = "
        f"{alone_two / alone:.2f}"
    )
    return ok


def main() -> int:
    logging.basicConfig(format="  %(message)s")
    logging.getLogger("resettle.documents.rendering").setLevel(logging.INFO)
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        ok &= measure(f"sqlite:///{tmp}/bench-parallel.sqlite3", "SQLite")
    if os.environ.get("BENCH_DATABASE_URL"):
        os.environ["TEST_DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
        from tests.dbs import fresh_database

        ok &= measure(fresh_database("bench_par", Path(tempfile.gettempdir())), "PostgreSQL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
