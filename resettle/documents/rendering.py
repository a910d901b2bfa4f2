"""Many-part documents (a notice batch: a page or more per household) rendered as one PDF, in
this process or in chunks by several worker processes joined into one file.

WeasyPrint lays a document out on one core. A large document is cut into chunks of parts that
worker processes render side by side while the caller goes on producing the next parts
(`ParallelRenderer`), and the chunks are joined with pypdf into one PDF a reader cannot tell
from the one-process render:

- the parts' anchors (`notice-<index>`) and so `first_pages` count over the whole document;
- a page counter "第 N 页 共 M 页" (from templates/pdf/_base.html) is left out of the chunks
  and stamped over the joined pages from a footer-only document of M pages laid out with the
  same @page rules (same font, same place), when the template prints one at all;
- the outline (WeasyPrint's bookmarks from each part's h1/h2) is kept, pointing at the joined
  pages; the named destinations too;
- the first chunk's /OutputIntents, XMP /Metadata (pdfaid:part 3), /Lang and /Info are the
  joined file's, so Info and XMP agree, and the file gets its /ID (PDF/A-3b as far as pypdf
  allows; fonts stay embedded, each chunk with its own subsets);
- every chunk is rendered with the one `made_at`, so the header time is the same on each page.

The workers are forked from the application (`multiprocessing` "fork" context, Linux): they
inherit the app, its templates, the Chinese catalog and the warm font configuration, push an
app context of that app for each chunk and never touch the database (entries are plain dicts).
A chunk that raises, or a worker that dies, makes `finish()` raise: nothing half-joined is
returned. `RENDER_PROCESSES` = 1, or fewer parts than `RENDER_PARALLEL_MIN_PARTS`, renders in
this process exactly as before.
"""

from __future__ import annotations

import gc
import io
import logging
import multiprocessing
import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Flask, current_app
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject

from resettle import pdf as pdf_module
from resettle.chinese import in_chinese
from resettle.documents.verification import qr_data_uri
from resettle.extensions import db
from resettle.pdf import PDF_VARIANT_ARCHIVE, render_pdf_pages
from resettle.translate import gettext as _

log = logging.getLogger(__name__)

#: The template that lays out many parts (notices, orders) as one document, a page or more each.
DOCUMENT_TEMPLATE = "notices/pdf/document.html"
#: The catalog keys the joined file takes from its first chunk (PDF/A: colour profile, XMP).
_CATALOG_KEYS = ("/OutputIntents", "/Metadata", "/Lang", "/MarkInfo", "/ViewerPreferences")

#: The application the worker processes inherit: set in the parent just before they fork.
_APP: Flask | None = None


@dataclass
class RenderedDocument:
    pdf: bytes
    pages: int
    first_pages: list[int]  # the first page of each part, in order


@dataclass
class RenderedChunk:
    """Some consecutive parts of a document, rendered without the page counter."""

    first_part: int  # the index of its first part in the whole document
    pdf: bytes
    pages: int
    first_pages: list[int]  # within the chunk, from 1
    seconds: float = 0.0  # spent rendering, for the benchmark


@dataclass
class JoinTimings:
    """Where the parent's time went in the last join (the benchmark prints it)."""

    wait: float = 0.0
    join: float = 0.0
    stamp: float = 0.0
    render: list[float] = field(default_factory=list)


def with_qr(entry: dict[str, Any]) -> dict[str, Any]:
    """The entry with its QR code drawn: an entry may give `qr_text` (what the code says)
    instead of `qr` (the image), so the drawing happens where the part is rendered."""
    if "qr" in entry or "qr_text" not in entry:
        return entry
    return {**entry, "qr": qr_data_uri(entry["qr_text"])}


def _first_pages(pages: Sequence[Any], first_part: int, count: int) -> list[int]:
    """Where each part starts (from the anchors notice-<index> on the laid-out pages)."""
    starts: dict[str, int] = {}
    for page_number, page in enumerate(pages, start=1):
        for anchor in page.anchors:
            if anchor.startswith("notice-"):
                starts.setdefault(anchor, page_number)
    return [starts.get(f"notice-{first_part + index}", 1) for index in range(count)]


def render_in_process(
    entries: Sequence[dict[str, Any]],
    *,
    title: str,
    made_at: datetime,
    template: str = DOCUMENT_TEMPLATE,
    pdf_variant: str | None = PDF_VARIANT_ARCHIVE,
) -> RenderedDocument:
    """The whole document laid out once, in this process, through resettle.pdf."""
    entries = [with_qr(entry) for entry in entries]
    with in_chinese():  # an archived document is a Chinese document, whoever issues it
        pdf, pages = render_pdf_pages(
            template, pdf_variant=pdf_variant, title=title, made_at=made_at, entries=entries
        )
    return RenderedDocument(pdf, len(pages), _first_pages(pages, 0, len(entries)))


def render_chunk(
    entries: Sequence[dict[str, Any]],
    *,
    first_part: int,
    title: str,
    made_at: datetime,
    template: str,
    pdf_variant: str | None,
) -> RenderedChunk:
    """Some parts of a document, numbered from `first_part`, without the page counter."""
    started = time.perf_counter()
    entries = [with_qr(entry) for entry in entries]
    with in_chinese():
        pdf, pages = render_pdf_pages(
            template,
            pdf_variant=pdf_variant,
            title=title,
            made_at=made_at,
            entries=entries,
            first_part=first_part,
            pdf_page_counter="none",
        )
    return RenderedChunk(
        first_part,
        pdf,
        len(pages),
        _first_pages(pages, first_part, len(entries)),
        time.perf_counter() - started,
    )


# --- the page counter ------------------------------------------------------------------------

_counter_lock = threading.Lock()
_prints_counter: dict[str, bool] = {}


def _squeezed(text: str) -> str:
    return "".join(text.split())


def prints_page_counter(template: str) -> bool:
    """Whether `template` prints the page counter "第 N 页 共 M 页" (looked at once: a part-less
    document of one page, read back as a reader would)."""
    with _counter_lock:
        known = _prints_counter.get(template)
    if known is not None:
        return known
    with in_chinese():
        pdf, _pages = render_pdf_pages(template, title="", entries=[])
        expected = _squeezed(_("Page %(page)s of %(pages)s", page=1, pages=1))
    text = _squeezed(PdfReader(io.BytesIO(pdf)).pages[0].extract_text())
    with _counter_lock:
        _prints_counter[template] = expected in text
    return expected in text


def footer_pages(template: str, pages: int, *, title: str, made_at: datetime) -> bytes:
    """A PDF of `pages` empty pages carrying only the page counter, laid out by `template`'s
    own @page rules, to be laid over a joined document."""
    with in_chinese():
        pdf, _pages = render_pdf_pages(
            template, title=title, made_at=made_at, entries=[], pdf_footer_pages=pages
        )
    return pdf


# --- joining ---------------------------------------------------------------------------------


class JoinedDocument:
    """A PDF being joined from chunks added in order (each added as soon as it is rendered,
    while later ones still render); `finish()` writes the one file."""

    def __init__(self) -> None:
        self.writer = PdfWriter()
        self.first: PdfReader | None = None
        self.pages = 0
        self.first_pages: list[int] = []

    def add(self, chunk: RenderedChunk) -> None:
        """The chunk's pages, outline and named destinations, after those added before."""
        reader = PdfReader(io.BytesIO(chunk.pdf))
        self.first = self.first or reader
        self.writer.append(reader, import_outline=True)
        self.first_pages.extend(self.pages + page for page in chunk.first_pages)
        self.pages += chunk.pages

    def finish(self, *, footer_pdf: bytes | None = None) -> RenderedDocument:
        """The file: catalog entries (PDF/A output intent, XMP, language) and /Info of the first
        chunk, the footer PDF's pages laid over the pages."""
        if self.first is None:
            raise ValueError("a document of no chunks")
        writer = self.writer
        first_root = self.first.trailer["/Root"]
        for key in _CATALOG_KEYS:
            if key in first_root:
                writer._root_object[NameObject(key)] = first_root.raw_get(key).clone(writer)
        if self.first.metadata:  # WeasyPrint's /Producer and /Title, as in the XMP (not pypdf's)
            writer.add_metadata(dict(self.first.metadata))
        if footer_pdf is not None:
            footer = PdfReader(io.BytesIO(footer_pdf))
            for page, stamp in zip(writer.pages, footer.pages, strict=True):
                page.merge_page(stamp)
        writer.generate_file_identifiers()  # the trailer's /ID, which PDF/A asks for
        out = io.BytesIO()
        writer.write(out)
        return RenderedDocument(out.getvalue(), self.pages, list(self.first_pages))


def join_chunks(
    chunks: Sequence[RenderedChunk], *, footer_pdf: bytes | None = None
) -> RenderedDocument:
    """One PDF from chunks in order (see JoinedDocument)."""
    joined = JoinedDocument()
    for chunk in chunks:
        joined.add(chunk)
    return joined.finish(footer_pdf=footer_pdf)


# --- worker processes ------------------------------------------------------------------------


def _worker_started() -> None:
    """In a forked worker: its own render lock (another thread of the parent may have held
    the inherited one), the parent's pooled database connections left alone, default signals."""
    pdf_module.RENDER_LOCK = threading.Lock()
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(signum, signal.SIG_DFL)
    assert _APP is not None
    with _APP.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)


def _worker_ready() -> bool:
    return True


def _render_in_worker(entries: list[dict[str, Any]], options: dict[str, Any]) -> RenderedChunk:
    """One chunk, in a worker, inside an app context of the inherited app."""
    assert _APP is not None, "the worker was not forked from a ParallelRenderer"
    with _APP.app_context():
        return render_chunk(entries, **options)


def render_processes(app: Flask | None = None) -> int:
    """How many processes render a large document (RENDER_PROCESSES, at least 1)."""
    app = app or current_app
    return max(int(app.config.get("RENDER_PROCESSES", 1) or 1), 1)


class ParallelRenderer:
    """Renders the parts of one document in worker processes as the caller submits them, and
    joins them into one PDF in `finish()`. Use it as a context manager: leaving it (also by an
    exception) stops the workers.

        with ParallelRenderer(title=..., made_at=..., expected_parts=len(households)) as r:
            for chunk in ...:
                r.submit(entries_of(chunk))   # rendering starts as soon as a chunk is full
            rendered = r.finish()

    With one process, or fewer parts than RENDER_PARALLEL_MIN_PARTS (told by `expected_parts`
    or seen by `finish()`), the document is rendered in this process in `finish()`.
    """

    def __init__(
        self,
        *,
        title: str,
        made_at: datetime,
        template: str = DOCUMENT_TEMPLATE,
        pdf_variant: str | None = PDF_VARIANT_ARCHIVE,
        expected_parts: int | None = None,
        processes: int | None = None,
        chunk_parts: int | None = None,
        on_rendered: Callable[[int], None] | None = None,
    ) -> None:
        app = current_app._get_current_object()
        # Told how many more parts are laid out, as each chunk is (progress a person watches).
        self.on_rendered = on_rendered
        self.app = app
        self.title, self.made_at = title, made_at
        self.template, self.pdf_variant = template, pdf_variant
        self.processes = processes or render_processes(app)
        self.min_parts = int(app.config.get("RENDER_PARALLEL_MIN_PARTS", 40))
        # Each chunk costs its own font subsets (~0.2 s): few chunks, yet enough of them that
        # the workers start early and finish together (about two a process when told the size).
        most = max(int(chunk_parts or app.config.get("RENDER_CHUNK_PARTS", 100)), 1)
        if expected_parts:
            most = min(most, max(-(-expected_parts // (2 * self.processes)), 10))
        self.chunk_parts = most
        self.in_process = self.processes <= 1 or (
            expected_parts is not None and expected_parts < self.min_parts
        )
        self.timings = JoinTimings()
        self._pending: list[dict[str, Any]] = []
        self._sent = 0
        self._futures: list[Future[RenderedChunk]] = []
        self._pool: ProcessPoolExecutor | None = None
        self._finished = False

    # the context manager
    def __enter__(self) -> ParallelRenderer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers (chunks not started are dropped)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    @property
    def parts(self) -> int:
        return self._sent + len(self._pending)

    def submit(self, entries: Iterable[dict[str, Any]]) -> None:
        """Add the next parts (plain dicts, as render_parts takes); full chunks start rendering."""
        if self._finished:
            raise RuntimeError("the document is finished already")
        self._pending.extend(entries)
        if not self.in_process and (self._pool is not None or self.parts >= self.min_parts):
            self._send(everything=False)

    def _start_pool(self) -> ProcessPoolExecutor:
        global _APP
        if self._pool is None:
            _APP = self.app  # what the forked workers inherit
            prints_page_counter(self.template)  # looked at once, before the fork
            self._pool = ProcessPoolExecutor(
                max_workers=self.processes,
                mp_context=multiprocessing.get_context("fork"),
                initializer=_worker_started,
            )
            # The workers fork at the first submit. Frozen, the parent's objects are left out of
            # the workers' garbage collections (which otherwise walk the whole inherited heap
            # again and again, and copy every page they touch).
            # Forked under the render lock, so no other thread is inside Pango or fontconfig
            # (holding their locks) at that moment.
            with pdf_module.RENDER_LOCK:
                gc.freeze()
                try:
                    self._pool.submit(_worker_ready)
                finally:
                    gc.unfreeze()
        return self._pool

    def _send(self, *, everything: bool) -> None:
        while len(self._pending) >= self.chunk_parts or (everything and self._pending):
            chunk = self._pending[: self.chunk_parts]
            del self._pending[: self.chunk_parts]
            options = {
                "first_part": self._sent,
                "title": self.title,
                "made_at": self.made_at,
                "template": self.template,
                "pdf_variant": self.pdf_variant,
            }
            self._sent += len(chunk)
            future = self._start_pool().submit(_render_in_worker, chunk, options)
            if self.on_rendered is not None:
                future.add_done_callback(self._rendered_callback(len(chunk)))
            self._futures.append(future)

    def _rendered_callback(self, parts: int) -> Callable[[Future[RenderedChunk]], None]:
        def done(future: Future[RenderedChunk]) -> None:
            if not future.cancelled() and future.exception() is None and self.on_rendered:
                self.on_rendered(parts)

        return done

    def finish(self) -> RenderedDocument:
        """The whole document: waits for every chunk and joins them (raises, joining nothing,
        when a chunk failed or a worker died)."""
        self._finished = True
        if self._pool is None:  # one process, or a small document
            entries, self._pending = self._pending, []
            rendered = render_in_process(
                entries,
                title=self.title,
                made_at=self.made_at,
                template=self.template,
                pdf_variant=self.pdf_variant,
            )
            if self.on_rendered is not None:
                self.on_rendered(len(entries))
            return rendered
        self._send(everything=True)
        joined = JoinedDocument()
        waited = joining = 0.0
        renders = []
        try:
            for future in self._futures:  # joined in order, each as soon as it is there
                started = time.perf_counter()
                chunk = future.result()
                added = time.perf_counter()
                joined.add(chunk)
                waited += added - started
                joining += time.perf_counter() - added
                renders.append(chunk.seconds)
        finally:
            self.close()
        started = time.perf_counter()
        footer = None
        if prints_page_counter(self.template):
            footer = footer_pages(
                self.template, joined.pages, title=self.title, made_at=self.made_at
            )
        stamped = time.perf_counter()
        rendered = joined.finish(footer_pdf=footer)
        self.timings = JoinTimings(
            wait=waited,
            join=joining + time.perf_counter() - stamped,
            stamp=stamped - started,
            render=renders,
        )
        log.info(
            "%d parts in %d chunks by %d processes: %.2f s waited for chunks, %.2f s joining, "
            "%.2f s the page counter, %.2f s rendering in the workers",
            joined.first_pages and len(joined.first_pages),
            len(renders),
            self.processes,
            self.timings.wait,
            self.timings.join,
            self.timings.stamp,
            sum(renders),
        )
        return rendered


def render_parts(
    entries: Sequence[dict[str, Any]],
    *,
    title: str,
    made_at: datetime,
    template: str = DOCUMENT_TEMPLATE,
    pdf_variant: str | None = PDF_VARIANT_ARCHIVE,
) -> RenderedDocument:
    """One PDF/A-3b document with a page (or more) per part; entries are plain dicts with
    `template`, `n` (the part's data) and `qr` (or `qr_text`), laid out by `template` (each part
    in an element with the id notice-<index>). Large documents are rendered by several
    processes and joined (ParallelRenderer); small ones in this process."""
    with ParallelRenderer(
        title=title,
        made_at=made_at,
        template=template,
        pdf_variant=pdf_variant,
        expected_parts=len(entries),
    ) as renderer:
        renderer.submit(entries)
        return renderer.finish()
