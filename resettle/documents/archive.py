"""Rendering a document to PDF/A once, archiving its bytes with their SHA-256, reprinting them."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy.orm import Session

from resettle.auth.models import User
from resettle.documents.models import ArchivedDocument
from resettle.documents.rendering import DOCUMENT_TEMPLATE, RenderedDocument, render_parts
from resettle.pdf import missing_glyphs

__all__ = [  # rendering lives in resettle.documents.rendering; callers may take it from here
    "DOCUMENT_TEMPLATE",
    "RenderedDocument",
    "archive_document",
    "document_is_intact",
    "lacking_glyphs",
    "page_counts",
    "render_parts",
]


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
