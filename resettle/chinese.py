"""Stored domain text is Chinese data, not a translation lookup.

Plan names, disclosure rows, what a notice or a supervision order says and the files the office
prints are Chinese documents: what a service writes into a column or an archived file is in
Chinese, whatever language the person at the keyboard browses in. The Chinese words keep their
one home, the catalog (the labels stay beside their enums as English message ids); this module
reads them in Chinese and refuses to go on without the catalog, so an English message id is
never stored by accident.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask_babel import force_locale

from resettle.translate import current_translations, gettext

#: The language of stored text and printed files.
DATA_LOCALE = "zh_Hans_CN"


class ChineseCatalogMissing(RuntimeError):
    """The Chinese catalog is not loaded: stored text would be English message ids."""


@contextmanager
def in_chinese() -> Iterator[None]:
    """Translate in Chinese inside the block (text that is stored or printed)."""
    with force_locale(DATA_LOCALE):
        if not getattr(current_translations(), "files", None):
            raise ChineseCatalogMissing(
                "The Chinese catalog is not loaded (no compiled .mo, or outside the app): "
                "stored text would be English."
            )
        yield


def chinese(message: str, **variables: Any) -> str:
    """One message in Chinese, for a column or a file."""
    with in_chinese():
        return gettext(message, **variables)
