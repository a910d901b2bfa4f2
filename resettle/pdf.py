"""PDF rendering in one place: WeasyPrint, the CJK font, print CSS and a url_fetcher kept local.

Every PDF of the application goes through `render_pdf`. It renders a Jinja template of the
current app (plain dicts in the context, never ORM objects) and lets WeasyPrint fetch only files
from the app's own `static/` folder and `data:` URIs; anything else (http, https, other files)
is refused and left out of the document.
"""

from __future__ import annotations

import logging
import mimetypes
import subprocess
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import current_app, render_template
from fontTools.ttLib import TTFont
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from resettle.clock import OFFICE_TZ
from resettle.translate import gettext as _

log = logging.getLogger(__name__)

#: CJK font families we know to cover Chinese well, best first.
PREFERRED_CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Serif CJK SC", "WenQuanYi Micro Hei")
#: What follows the detected family in `font-family`, as in static/css/app.css.
FALLBACK_FAMILIES = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "sans-serif",
)
PDF_VARIANT_ARCHIVE = "pdf/a-3b"
PAGE_SIZES = ("A4 portrait", "A4 landscape", "A3 landscape")


class PdfFontError(RuntimeError):
    """No usable Chinese font is installed, so a PDF would print empty boxes."""


class PdfResourceRefused(ValueError):
    """A PDF template asked for a resource outside the app's static folder."""


@dataclass(frozen=True)
class CjkFont:
    """The font file fontconfig offers for a Chinese family (index: face inside a .ttc)."""

    family: str
    path: str
    index: int = 0


# --- fonts -----------------------------------------------------------------------------------

_font_lock = threading.Lock()
_font_cache: dict[str, Any] = {}


def _fontconfig_chinese_fonts() -> list[tuple[list[str], list[str], str, int]]:
    """(families, styles, file, index) of every installed font that covers Chinese."""
    try:
        completed = subprocess.run(
            ["fc-list", "--format", "%{family}\t%{style}\t%{file}\t%{index}\n", ":lang=zh"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as error:
        log.warning("fc-list failed: %s", error)
        return []
    fonts = []
    for line in completed.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) != 4 or not parts[2]:
            continue
        families = [name.strip() for name in parts[0].split(",") if name.strip()]
        styles = [name.strip() for name in parts[1].split(",") if name.strip()]
        try:
            index = int(parts[3] or 0)
        except ValueError:
            index = 0
        fonts.append((families, styles, parts[2], index))
    return fonts


def _choose_cjk_font(fonts: Sequence[tuple[list[str], list[str], str, int]]) -> CjkFont | None:
    def regular_first(entry: tuple[list[str], list[str], str, int]) -> tuple[int, str]:
        is_regular = any(style in ("Regular", "Book", "Normal") for style in entry[1])
        return (0 if is_regular else 1, entry[2])

    for family in PREFERRED_CJK_FAMILIES:
        matches = [entry for entry in fonts if family in entry[0]]
        if matches:
            _, _, path, index = min(matches, key=regular_first)
            return CjkFont(family, path, index)
    return None


def cjk_font() -> CjkFont:
    """The installed Chinese font the PDFs use (looked up once); PdfFontError when there is none."""
    with _font_lock:
        font = _font_cache.get("font")
        if font is None:
            font = _choose_cjk_font(_fontconfig_chinese_fonts())
            if font is None:
                raise PdfFontError(
                    "No Chinese font found for PDFs (looked for "
                    + ", ".join(PREFERRED_CJK_FAMILIES)
                    + " with `fc-list :lang=zh`). Install the Debian package fonts-noto-cjk "
                    "(`make run` and `make test` install it), then restart the application."
                )
            _font_cache["font"] = font
        return font


def _font_codepoints() -> frozenset[int]:
    """Code points the chosen CJK font has glyphs for, read once from its cmap."""
    with _font_lock:
        cached = _font_cache.get("codepoints")
    if cached is not None:
        return cached
    font = cjk_font()
    with TTFont(font.path, fontNumber=font.index, lazy=True) as tt:
        codepoints = frozenset(tt.getBestCmap() or {})
    with _font_lock:
        _font_cache["codepoints"] = codepoints
    return codepoints


def missing_glyphs(text: str) -> set[str]:
    """Characters of `text` the PDF font cannot draw (they would print as empty boxes)."""
    codepoints = _font_codepoints()
    return {
        char
        for char in set(text)
        if ord(char) not in codepoints and unicodedata.category(char) not in ("Cc", "Cf")
    }


def reset_font_cache() -> None:
    """Forget the detected font (after installing fonts, and in tests)."""
    with _font_lock:
        _font_cache.clear()


def css_font_family(families: Iterable[str]) -> str:
    """A CSS `font-family` value: each family quoted, duplicates dropped, generic names bare."""
    seen: list[str] = []
    for family in families:
        if family not in seen:
            seen.append(family)
    return ", ".join(
        name if name in ("serif", "sans-serif", "monospace") else css_string(name) for name in seen
    )


def css_string(text: str) -> str:
    """`text` as a double-quoted CSS string, safe inside a <style> element."""
    escaped = []
    for char in str(text):
        if char in '"\\<>&':
            escaped.append(f"\\{ord(char):x} ")
        elif char in "\n\r\f" or unicodedata.category(char) == "Cc":
            escaped.append("\\a " if char == "\n" else "")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'


def _page_counter_content() -> str:
    """The footer's CSS `content`: "第 " counter(page) " 页 共 " counter(pages) " 页"."""
    page_mark, pages_mark = "\x01", "\x02"
    text = _("Page %(page)s of %(pages)s", page=page_mark, pages=pages_mark)
    parts: list[str] = []
    rest = text
    while rest:
        positions = [(rest.find(mark), mark) for mark in (page_mark, pages_mark) if mark in rest]
        if not positions:
            parts.append(css_string(rest))
            break
        position, mark = min(positions)
        if position:
            parts.append(css_string(rest[:position]))
        parts.append("counter(page)" if mark == page_mark else "counter(pages)")
        rest = rest[position + 1 :]
    return " ".join(parts)


# --- fetching resources ----------------------------------------------------------------------


class LocalOnlyURLFetcher(URLFetcher):
    """Serves files under `roots` and `data:` URIs to WeasyPrint; refuses everything else."""

    def __init__(self, roots: Iterable[Path]) -> None:
        super().__init__(allowed_protocols=("file", "data"), allow_redirects=False)
        self.roots = tuple(Path(root).resolve() for root in roots)

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme != "file":
            raise PdfResourceRefused(f"PDF resources come only from static/: refused {url[:200]}")
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise PdfResourceRefused(f"PDF resources come only from static/: refused {url[:200]}")
        path = Path(unquote(parts.path)).resolve()
        if not any(path.is_relative_to(root) for root in self.roots) or not path.is_file():
            raise PdfResourceRefused(f"PDF resources come only from static/: refused {url[:200]}")
        mime_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(
            path.as_uri(), body=path.read_bytes(), headers={"Content-Type": mime_type}
        )


def url_fetcher_for_app(app: Any = None) -> LocalOnlyURLFetcher:
    """The fetcher PDFs of `app` (default: the current app) use: its static folder only."""
    app = app or current_app._get_current_object()
    return LocalOnlyURLFetcher([Path(app.static_folder)])


# --- rendering -------------------------------------------------------------------------------

#: The one FontConfiguration every PDF shares: one per document doubled peak memory.
FONT_CONFIG = FontConfiguration()
# WeasyPrint's layout (Pango, through the shared FONT_CONFIG) is not safe across threads: four
# PDFs at once on the threaded development server corrupted memory ("corrupted double-linked
# list" from GLib). One render at a time in a process; gunicorn's sync workers are processes
# of their own and still render side by side.
RENDER_LOCK = threading.Lock()


def local_time(value: datetime) -> str:
    """A time (UTC when naive) as shown in the offices: Asia/Shanghai, to the minute."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(OFFICE_TZ).strftime("%Y-%m-%d %H:%M")


def render_html(template_name: str, **context: Any) -> str:
    """The HTML a PDF is made from (also handy to look at in a browser while designing)."""
    font = cjk_font()
    made_at = context.pop("made_at", None) or datetime.now(UTC)
    context.setdefault("title", "")
    # a part of a document joined later prints no page counter: it is stamped on the whole
    # (resettle.documents.parallel); the base template also honours `pdf_footer_pages`
    context.setdefault("pdf_page_counter", _page_counter_content())
    return render_template(
        template_name,
        made_at=made_at,
        made_at_local=local_time(made_at),
        pdf_font_family=css_font_family((font.family, *FALLBACK_FAMILIES)),
        **context,
    )


def _html_document(template_name: str, context: dict[str, Any]) -> HTML:
    html = render_html(template_name, **context)
    lacking = missing_glyphs(html)
    if lacking:
        log.warning(
            "PDF %s has characters the font %s lacks (printed as boxes): %s",
            template_name,
            cjk_font().family,
            " ".join(f"{char} U+{ord(char):04X}" for char in sorted(lacking)),
        )
    app = current_app._get_current_object()
    return HTML(
        string=html,
        base_url=Path(app.static_folder).resolve().as_uri() + "/",
        url_fetcher=url_fetcher_for_app(app),
    )


def render_pdf(template_name: str, *, pdf_variant: str | None = None, **context: Any) -> bytes:
    """Render a Jinja template of the current app to PDF bytes (CJK font embedded, subset).

    The context holds plain data; `title` and `made_at` (a datetime, UTC when naive; default
    now) fill the page header. `pdf_variant="pdf/a-3b"` makes an archivable PDF/A-3b.
    """
    return render_pdf_pages(template_name, pdf_variant=pdf_variant, **context)[0]


def render_pdf_pages(
    template_name: str, *, pdf_variant: str | None = None, **context: Any
) -> tuple[bytes, list[Any]]:
    """As `render_pdf`, with the laid-out pages (their anchors tell where each part of a
    many-part document starts)."""
    document = _html_document(template_name, context)
    options: dict[str, Any] = {"pdf_variant": pdf_variant} if pdf_variant else {}
    with RENDER_LOCK:
        laid_out = document.render(font_config=FONT_CONFIG, **options)
        return laid_out.write_pdf(**options), list(laid_out.pages)
