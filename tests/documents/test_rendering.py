"""Many-part documents rendered by several processes and joined: a reader gets the document the
one-process render makes (pages, page counter, first pages, bookmarks, PDF/A), or an error."""

from __future__ import annotations

import io
import os
import re
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime

import pypdf
import pytest
from jinja2 import ChoiceLoader, DictLoader

from resettle.documents import rendering
from resettle.documents.rendering import (
    DOCUMENT_TEMPLATE,
    ParallelRenderer,
    render_in_process,
    render_parts,
)
from resettle.extensions import db
from resettle.households.models import Stage
from resettle.notices.models import NoticeType
from resettle.notices.services import issue_batch
from tests.supervision import TODAY, add_household, add_plan, add_project

MADE_AT = datetime(2025, 6, 18, 2, 30, tzinfo=UTC)  # 10:30 in the offices
PARTS = 64
#: A document template that prints the page counter and the header (as _base.html does), with
#: some parts two pages long.
PARTS_TEMPLATE = """{% extends "pdf/_base.html" %}
{% block style %}.part + .part { break-before: page; } .long { height: 250mm; }{% endblock %}
{% block content %}{% set first_part = first_part or 0 %}{% for entry in entries %}
<section class="part" id="notice-{{ first_part + loop.index0 }}"><h1>{{ entry.n.number }}</h1>
<p>{{ entry.n.head_name }}</p>{% if entry.n.long %}<div class="long"></div><p>续页</p>{% endif %}
</section>{% endfor %}{% endblock %}"""


@pytest.fixture
def parallel(app, monkeypatch):
    """Two render processes, parts sent to them 10 at a time, from 20 parts on."""
    monkeypatch.setitem(app.config, "RENDER_PROCESSES", 2)
    monkeypatch.setitem(app.config, "RENDER_PARALLEL_MIN_PARTS", 20)
    monkeypatch.setitem(app.config, "RENDER_CHUNK_PARTS", 10)
    monkeypatch.setattr(
        app.jinja_env,
        "loader",
        ChoiceLoader([DictLoader({"tests/parts.html": PARTS_TEMPLATE}), app.jinja_env.loader]),
    )
    return app


def _parts(count: int = PARTS) -> list[dict]:
    return [
        {
            "template": "",
            "n": {"number": f"第{i + 1}号", "head_name": f"户主{i}", "long": i % 7 == 3},
        }
        for i in range(count)
    ]


def _notice_entries(count: int = PARTS) -> list[dict]:
    entries = []
    for i in range(count):
        number = f"东征签催〔2025〕{i + 1}号"
        n = {
            "type": "signing",
            "head_name": f"欧阳{i}",
            "id_number_masked": "110105********0018",
            "case_number": f"T-{i:04d}",
            "house_address": f"东城区解放路{i}号",
            "project_name": "测试项目",
            "decision_number": "东政征决字〔2025〕9号",
            "signing_start_text": "二〇二五年三月二十日",
            "signing_end_text": "二〇二五年七月三十一日",
            "deadline_text": "二〇二五年七月三十一日",
            "deadline_provisional": False,
            "number": number,
            "check_code": "ABCD2345",
            "issued_on_text": "二〇二五年六月十八日",
            "verify_url": f"https://zq.example.gov.cn/public/verify?n={i}",
        }
        entries.append({"template": "notices/pdf/signing.html", "n": n, "qr_text": n["verify_url"]})
    return entries


def _joined(entries, template):
    with ParallelRenderer(title="测试文件", made_at=MADE_AT, template=template) as renderer:
        for start in range(0, len(entries), 7):  # as a caller produces them
            renderer.submit(entries[start : start + 7])
        assert renderer._pool is not None, "rendered by worker processes"
        return renderer.finish()


def _texts(pdf: bytes) -> list[str]:
    return ["".join(page.extract_text().split()) for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def test_joined_pages_count_and_footer_like_one_process(parallel):
    entries = _parts()
    with parallel.app_context():
        single = render_in_process(
            entries, title="测试文件", made_at=MADE_AT, template="tests/parts.html"
        )
        joined = _joined(entries, "tests/parts.html")
    assert joined.pages == single.pages == PARTS + sum(e["n"]["long"] for e in entries)
    assert joined.first_pages == single.first_pages
    texts = _texts(joined.pdf)
    for page, text in enumerate(texts, start=1):
        # the counter of the whole document, once per page, and the same header time
        assert re.findall(r"第(\d+)页共(\d+)页", text) == [(str(page), str(joined.pages))]
        assert "2025-06-1810:30" in text
    for index, first in enumerate(joined.first_pages):
        assert f"第{index + 1}号" in texts[first - 1]
    assert _texts(single.pdf) == texts


def test_joined_notices_keep_bookmarks_destinations_and_pdfa(parallel):
    entries = _notice_entries()
    with parallel.app_context():
        single = render_in_process(entries, title="测试文件", made_at=MADE_AT)
        joined = _joined(entries, DOCUMENT_TEMPLATE)
    assert (joined.pages, joined.first_pages) == (single.pages, single.first_pages)
    reader = pypdf.PdfReader(io.BytesIO(joined.pdf))
    # a bookmark per notice, pointing at its first page (0-based in pypdf)
    outline = [entry for entry in reader.outline if not isinstance(entry, list)]
    assert len(outline) == PARTS
    assert [reader.get_destination_page_number(b) + 1 for b in outline] == joined.first_pages
    assert all(b["/Title"] == "签约催告通知书" for b in outline)
    named = reader.named_destinations
    assert {f"notice-{i}" for i in range(PARTS)} <= set(named)
    assert reader.get_destination_page_number(named["notice-37"]) + 1 == joined.first_pages[37]
    # PDF/A-3b: the output intent, the XMP saying so, Info agreeing with it, fonts embedded
    root = reader.trailer["/Root"]
    assert "/ID" in reader.trailer
    assert root["/OutputIntents"][0].get_object()["/S"] == "/GTS_PDFA1"
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert re.search(r"pdfaid:part(>|=\")3", xmp)
    assert (
        reader.metadata["/Producer"]
        == pypdf.PdfReader(io.BytesIO(single.pdf)).metadata["/Producer"]
    )
    assert reader.metadata["/Producer"] in xmp
    for page in (reader.pages[0], reader.pages[len(reader.pages) // 2], reader.pages[-1]):
        fonts = page["/Resources"]["/Font"]
        assert fonts
        for font in fonts.values():
            font = font.get_object()
            descriptor = (
                font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
                if "/DescendantFonts" in font
                else font["/FontDescriptor"]
            ).get_object()
            assert "/FontFile2" in descriptor or "/FontFile3" in descriptor, font["/BaseFont"]
    # the notice number footer of each notice stays its own
    texts = _texts(joined.pdf)
    assert texts[joined.first_pages[50] - 1].endswith("东征签催〔2025〕51号")


def test_small_documents_and_one_process_render_here(parallel, monkeypatch):
    def no_pool(*args, **kwargs):
        raise AssertionError("no worker processes for this document")

    monkeypatch.setattr(rendering, "ProcessPoolExecutor", no_pool)
    with parallel.app_context():
        small = render_parts(_notice_entries(5), title="t", made_at=MADE_AT)
        assert small.pages == 5
        monkeypatch.setitem(parallel.config, "RENDER_PROCESSES", 1)
        assert render_parts(_notice_entries(25), title="t", made_at=MADE_AT).pages == 25


def test_a_chunk_that_fails_fails_the_document(parallel, monkeypatch):
    real = rendering.render_chunk

    def fails_at_thirty(entries, **options):
        if options["first_part"] == 30:
            raise OSError("the PDF could not be written")
        return real(entries, **options)

    monkeypatch.setattr(rendering, "render_chunk", fails_at_thirty)  # the workers fork with it
    with parallel.app_context(), pytest.raises(OSError, match="could not be written"):
        render_parts(_parts(), title="t", made_at=MADE_AT, template="tests/parts.html")


def test_a_worker_that_dies_fails_the_document(parallel, monkeypatch):
    def dies(entries, **options):
        os._exit(3)

    monkeypatch.setattr(rendering, "render_chunk", dies)
    with parallel.app_context(), pytest.raises(BrokenProcessPool):
        render_parts(_parts(), title="t", made_at=MADE_AT, template="tests/parts.html")


@pytest.fixture
def project():
    project = add_project(db.session)
    add_plan(
        db.session,
        project=project,
        nodes=[{"name": "签约", "stage": Stage.SIGNED, "deadline": TODAY.replace(month=7, day=15)}],
    )
    return project


def test_a_batch_rendered_by_processes_numbers_each_notice_at_its_page(parallel, project):
    households = [add_household(db.session, project, stage=Stage.APPRAISED) for _ in range(45)]
    document = issue_batch(db.session, households, NoticeType.SIGNING, user=None, today=TODAY)
    notices = sorted(document.notices, key=lambda n: n.sequence)
    assert [n.sequence for n in notices] == list(range(1, 46))
    assert document.pages == 45 and [n.first_page for n in notices] == list(range(1, 46))
    texts = _texts(document.pdf)
    for notice in notices:
        assert notice.number in texts[notice.first_page - 1]
        assert notice.check_code in texts[notice.first_page - 1]
