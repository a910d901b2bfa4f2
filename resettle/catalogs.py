"""The compiled translation catalogs (.mo), made from the .po files when the app starts.

A plain clone has only the .po files (the .mo are build output, not in git). Without a .mo,
Flask-Babel silently falls back to the English message ids: pages in English, and worse, English
written into stored data. So `create_app` compiles every catalog whose .mo is missing or older
than its .po, as `pybabel compile` would. Two workers starting at once may both compile: each
writes its own temporary file and renames it over the .mo, so a reader sees the old catalog or
the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

log = logging.getLogger(__name__)


def stale_catalogs(directory: Path) -> list[Path]:
    """The .po files under a translations directory whose .mo is missing or older."""
    stale = []
    for po in sorted(Path(directory).glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            stale.append(po)
    return stale


def compile_catalog(po: Path) -> Path:
    """Compile one .po into the .mo beside it (fuzzy entries left out, as `pybabel compile`),
    atomically: a temporary file in the same directory renamed over the .mo."""
    with po.open("rb") as source:
        catalog = read_po(source, locale=po.parent.parent.name)
    mo = po.with_suffix(".mo")
    fd, temporary = tempfile.mkstemp(dir=po.parent, prefix=f".{mo.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            write_mo(out, catalog, use_fuzzy=False)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; the catalog is not secret
        os.replace(temporary, mo)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return mo


def compile_stale_catalogs(directory: Path) -> list[Path]:
    """Compile the catalogs of a translations directory that need it; returns the .mo made."""
    made = []
    for po in stale_catalogs(directory):
        try:
            made.append(compile_catalog(po))
        except OSError as exc:
            raise RuntimeError(
                f"Cannot write the compiled catalog {po.with_suffix('.mo')} ({exc}). "
                "Compile it once as the owner of the files: make translations"
            ) from exc
        log.info("compiled the translation catalog %s", made[-1])
    return made
