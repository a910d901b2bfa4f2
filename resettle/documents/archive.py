"""Rendering a document to PDF/A once, archiving its bytes with their SHA-256, reprinting them."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from resettle.auth.models import User
from resettle.chinese import in_chinese
from resettle.documents.models import ArchivedDocument
from resettle.pdf import PDF_VARIANT_ARCHIVE, missing_glyphs, render_pdf_pages

#: The template that lays out many parts (notices, orders) as one document, a page or more each.
DOCUMENT_TEMPLATE = "notices/pdf/document.html"


@dataclass
class RenderedDocument:
    pdf: bytes
    pages: int
    first_pages: list[int]  # the first page of each part, in order


def render_parts(
    entries: Sequence[dict[str, Any]],
    *,
    title: str,
    made_at: datetime,
    template: str = DOCUMENT_TEMPLATE,
    pdf_variant: str | None = PDF_VARIANT_ARCHIVE,
) -> RenderedDocument:
    """One PDF/A-3b document with a page (or more) per part; entries are plain dicts with
    `template` and `n` (the part's data), laid out by `template` (each part in an element with
    the id notice-<index>). Laid out once, through resettle.pdf."""
    with in_chinese():  # an archived document is a Chinese document, whoever issues it
        pdf, pages = render_pdf_pages(
            template,
            pdf_variant=pdf_variant,
            title=title,
            made_at=made_at,
            entries=entries,
        )
    starts: dict[str, int] = {}
    for page_number, page in enumerate(pages, start=1):
        for anchor in page.anchors:
            if anchor.startswith("notice-"):
                starts.setdefault(anchor, page_number)
    first_pages = [starts.get(f"notice-{index}", 1) for index in range(len(entries))]
    return RenderedDocument(pdf, len(pages), first_pages)


def page_counts(first_pages: list[int], total: int) -> list[int]:
    """How many pages each part takes, from where each starts."""
    ends = first_pages[1:] + [total + 1]
    return [max(end - start, 1) for start, end in zip(first_pages, ends, strict=True)]


def archive_document(
    session: Session, rendered: RenderedDocument, *, count: int, user: User | None
) -> ArchivedDocument:
    """Keep the PDF bytes and their SHA-256 (the reprint returns exactly these bytes)."""
    document = ArchivedDocument(
        pdf=rendered.pdf,
        sha256=hashlib.sha256(rendered.pdf).hexdigest(),
        size=len(rendered.pdf),
        pages=rendered.pages,
        notice_count=count,
        created_by_id=user.id if user else None,
    )
    session.add(document)
    return document


def document_is_intact(document: ArchivedDocument) -> bool:
    """The archived bytes still have the SHA-256 recorded when they were issued."""
    return hashlib.sha256(document.pdf).hexdigest() == document.sha256


def lacking_glyphs(details: dict[str, Any]) -> str:
    """Characters of the name and address the PDF font cannot print (empty when all print):
    the caseworker is told, since a name printed as empty boxes is a wrong name."""
    text = f"{details.get('head_name', '')}{details.get('house_address', '')}"
    return "".join(sorted(missing_glyphs(text)))
