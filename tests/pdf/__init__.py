"""Helpers that look at PDFs the way poppler (pdffonts, pdftotext) sees them."""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PdfFont:
    name: str
    type: str
    embedded: bool
    subset: bool


def _run_on_pdf(command: list[str], data: bytes) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "document.pdf"
        path.write_bytes(data)
        completed = subprocess.run(
            [*command, str(path), *(["-"] if command[0] == "pdftotext" else [])],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    return completed.stdout


def pdf_fonts(data: bytes) -> list[PdfFont]:
    """The fonts `pdffonts` lists for the document."""
    lines = _run_on_pdf(["pdffonts"], data).splitlines()[2:]
    fonts = []
    for line in lines:
        tokens = line.split()
        # name, type (may contain spaces), encoding, emb, sub, uni, object number, generation
        fonts.append(
            PdfFont(
                name=tokens[0],
                type=" ".join(tokens[1:-6]),
                embedded=tokens[-5] == "yes",
                subset=tokens[-4] == "yes",
            )
        )
    return fonts


def pdf_text(data: bytes, page: int | None = None) -> str:
    """The text `pdftotext` recovers (of one page when given), whitespace removed.

    Without spaces, because pdftotext puts spaces between CJK characters its own way.
    """
    pages = ["-f", str(page), "-l", str(page)] if page else []
    text = _run_on_pdf(["pdftotext", "-layout", *pages], data)
    return "".join(text.split())


def pdf_page_count(data: bytes) -> int:
    info = _run_on_pdf(["pdfinfo"], data)
    for line in info.splitlines():
        if line.startswith("Pages:"):
            return int(line.split()[1])
    raise AssertionError(f"pdfinfo shows no page count:\n{info}")
