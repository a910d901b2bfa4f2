"""PDF rendering: Chinese embedded and readable, page numbers, local resources only, PDF/A."""

from __future__ import annotations

import io
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pypdf
import pytest
import weasyprint.text.ffi
from jinja2 import ChoiceLoader, DictLoader

from resettle import pdf
from tests.pdf import pdf_fonts, pdf_page_count, pdf_text

MADE_AT = datetime(2026, 3, 16, 2, 5, tzinfo=UTC)  # 10:05 in Shanghai

NOTICE = (
    '{% extends "pdf/_base.html" %}'
    "{% block content %}<h1>{{ title }}</h1>"
    "<p>被征收人：{{ head }}，补偿金额 {{ amount }} 元，签约日期 {{ signed }}。</p>"
    '{% if second_page %}<p class="page-break">第二页内容：{{ head }}</p>{% endif %}'
    "{% endblock %}"
)
LONG_TABLE = (
    '{% extends "pdf/_base.html" %}'
    "{% block content %}<table><thead><tr><th>户主姓名</th><th>金额（元）</th></tr></thead>"
    '<tbody>{% for n in range(rows) %}<tr><td>住户{{ n }}</td><td class="num">1,000.00</td>'
    "</tr>{% endfor %}</tbody></table>{% endblock %}"
)
RESOURCES = (
    '{% extends "pdf/_base.html" %}'
    '{% block content %}<link rel="stylesheet" href="{{ evil_css }}">'
    '<link rel="stylesheet" href="data:text/css,h1::after%7Bcontent:%22DATAURIOK%22%7D">'
    '<img src="http://example.com/x.png"><img src="file:///etc/passwd">'
    "<h1>{{ title }}</h1>{% endblock %}"
)
LANDSCAPE = (
    '{% extends "pdf/_base.html" %}{% block page_size %}A4 landscape{% endblock %}'
    "{% block content %}<p>横向</p>{% endblock %}"
)


@pytest.fixture
def templates(app, monkeypatch):
    """Sample PDF templates next to the app's own (pdf/_base.html comes from the app)."""
    samples = DictLoader(
        {
            "test_pdf/notice.html": NOTICE,
            "test_pdf/long_table.html": LONG_TABLE,
            "test_pdf/resources.html": RESOURCES,
            "test_pdf/landscape.html": LANDSCAPE,
        }
    )
    monkeypatch.setattr(app, "jinja_loader", ChoiceLoader([samples, app.jinja_loader]))
    with app.test_request_context():
        yield


@pytest.fixture
def font_cache_reset():
    pdf.reset_font_cache()
    yield
    pdf.reset_font_cache()


def render_notice(**overrides) -> bytes:
    context = {
        "title": "房屋征收补偿通知书",
        "made_at": MADE_AT,
        "head": "欧阳娜娜",
        "amount": "7,166.88",
        "signed": "2026-03-16",
        "second_page": False,
    }
    context.update(overrides)
    return pdf.render_pdf("test_pdf/notice.html", **context)


def test_harfbuzz_subset_library_is_loaded():
    # Without libharfbuzz-subset0 WeasyPrint subsets fonts another way: 11 s for one page.
    assert weasyprint.text.ffi.harfbuzz_subset is not None, (
        "libharfbuzz-subset0 is missing: install it (make test does) or PDFs take seconds a page"
    )


def test_chinese_pdf_embeds_a_subset_cjk_font(templates):
    data = render_notice()

    assert data.startswith(b"%PDF-")
    fonts = pdf_fonts(data)
    cjk = [font for font in fonts if "CJK" in font.name or "WenQuanYi" in font.name]
    assert cjk, f"no CJK font in the PDF: {fonts}"
    assert all(font.embedded and font.subset for font in cjk), fonts
    assert not [font for font in fonts if "Type 3" in font.type], fonts
    assert len(data) < 1_000_000  # a subset, not the 20 MB font


def test_chinese_text_names_amount_and_date_can_be_copied_out(templates):
    text = pdf_text(render_notice())

    assert "房屋征收补偿通知书" in text
    assert "被征收人：欧阳娜娜" in text
    assert "7,166.88" in text
    assert "2026-03-16" in text


def test_header_shows_title_and_time_made_in_shanghai(templates):
    text = pdf_text(render_notice(made_at=datetime(2026, 3, 16, 17, 30, tzinfo=UTC)))

    # 17:30 UTC is 01:30 the next day in Shanghai.
    assert "制表时间：2026-03-1701:30" in text


def test_two_page_document_numbers_its_pages(templates):
    data = render_notice(second_page=True)

    assert pdf_page_count(data) == 2
    assert "第1页共2页" in pdf_text(data, page=1)
    assert "第2页共2页" in pdf_text(data, page=2)
    assert "第二页内容：欧阳娜娜" in pdf_text(data, page=2)


def test_long_table_repeats_its_header_on_every_page(templates):
    data = pdf.render_pdf("test_pdf/long_table.html", title="名单", made_at=MADE_AT, rows=80)

    pages = pdf_page_count(data)
    assert pages >= 2
    for page in range(1, pages + 1):
        assert "户主姓名" in pdf_text(data, page=page)
    assert "住户79" in pdf_text(data, page=pages)


def test_templates_choose_the_page_size(templates):
    portrait = pypdf.PdfReader(io.BytesIO(render_notice())).pages[0].mediabox
    landscape = (
        pypdf.PdfReader(
            io.BytesIO(pdf.render_pdf("test_pdf/landscape.html", title="横向", made_at=MADE_AT))
        )
        .pages[0]
        .mediabox
    )

    assert (round(float(portrait.width)), round(float(portrait.height))) == (595, 842)
    assert (round(float(landscape.width)), round(float(landscape.height))) == (842, 595)


def test_fetcher_serves_static_files_and_data_uris_only(app, tmp_path):
    fetcher = pdf.url_fetcher_for_app(app)
    static = Path(app.static_folder).resolve()

    assert b"@page" in fetcher.fetch((static / "css" / "print.css").as_uri()).read()
    assert fetcher.fetch("data:text/plain,ok").read() == b"ok"
    outside = tmp_path / "secret.css"
    outside.write_text("h1 { color: red }")
    for url in (
        "http://example.com/x.png",
        "https://example.com/x.css",
        "file:///etc/passwd",
        outside.as_uri(),
        static.as_uri() + "/../config.py",
        "file://otherhost" + str(static / "css" / "print.css"),
        "ftp://example.com/x.png",
    ):
        with pytest.raises(pdf.PdfResourceRefused):
            fetcher.fetch(url)


def test_document_renders_without_the_refused_resources(templates, tmp_path):
    evil = tmp_path / "evil.css"
    evil.write_text('h1::before { content: "OUTSIDECSSLOADED" }')

    data = pdf.render_pdf(
        "test_pdf/resources.html", title="资源", made_at=MADE_AT, evil_css=evil.as_uri()
    )

    text = pdf_text(data)
    assert "资源" in text
    assert "OUTSIDECSSLOADED" not in text
    assert "DATAURIOK" in text  # data: URIs (QR codes) are fine


def test_pdf_a3b_variant_renders_for_the_archive(templates):
    data = render_notice(pdf_variant="pdf/a-3b")

    reader = pypdf.PdfReader(io.BytesIO(data))
    xmp = reader.xmp_metadata.rdf_root.toxml()
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    assert "/OutputIntents" in reader.trailer["/Root"]
    assert "欧阳娜娜" in pdf_text(data)
    assert all(font.embedded for font in pdf_fonts(data))


def test_missing_glyphs_reports_characters_the_font_lacks(app):
    assert pdf.missing_glyphs("张三") == set()
    assert pdf.missing_glyphs("欧阳娜娜 7,166.88 元\n") == set()
    # CJK Extension G: a rare name character that would print as an empty box.
    assert pdf.missing_glyphs("张\U00030000三") == {"\U00030000"}


def test_one_page_chinese_pdf_renders_quickly(templates):
    render_notice()  # warm-up: the font is opened once per process
    started = time.perf_counter()
    render_notice()
    assert time.perf_counter() - started < 3.0  # about 0.1 s; 11 s on the slow subsetting path


def test_no_chinese_font_is_a_clear_error(templates, monkeypatch, font_cache_reset):
    monkeypatch.setattr(pdf, "_fontconfig_chinese_fonts", lambda: [])

    with pytest.raises(pdf.PdfFontError, match="fonts-noto-cjk"):
        render_notice()


def test_missing_fc_list_is_the_same_clear_error(templates, monkeypatch, font_cache_reset):
    def no_fc_list(*args, **kwargs):
        raise FileNotFoundError("fc-list")

    monkeypatch.setattr(subprocess, "run", no_fc_list)

    with pytest.raises(pdf.PdfFontError, match="fonts-noto-cjk"):
        render_notice()


def test_simplified_chinese_regular_face_is_preferred():
    fonts = [
        (["Noto Sans CJK JP"], ["Regular"], "/f/NotoSansCJK-Regular.ttc", 0),
        (["Noto Sans CJK SC"], ["Bold"], "/f/NotoSansCJK-Bold.ttc", 2),
        (["Noto Sans CJK SC"], ["Regular"], "/f/NotoSansCJK-Regular.ttc", 2),
        (["WenQuanYi Micro Hei", "文泉驛微米黑"], ["Regular"], "/f/wqy-microhei.ttc", 0),
    ]

    assert pdf._choose_cjk_font(fonts) == pdf.CjkFont(
        "Noto Sans CJK SC", "/f/NotoSansCJK-Regular.ttc", 2
    )
    assert pdf._choose_cjk_font(fonts[3:]).family == "WenQuanYi Micro Hei"
    assert pdf._choose_cjk_font(fonts[:1]) is None
