"""The Chinese catalog is complete, and Chinese is what a visitor sees first."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "resettle/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
# `chinese(...)` (resettle.chinese): stored text read in Chinese, from the same catalog.
KEYWORDS = {
    "_": None,
    "gettext": None,
    "_l": None,
    "lazy_gettext": None,
    "ngettext": (1, 2),
    "chinese": None,
}
with (ROOT / "babel.cfg").open() as _cfg:
    METHODS, OPTIONS = parse_mapping_cfg(_cfg)  # what `make translations-update` extracts


def _walked(dirpath: str) -> bool:
    """The directories extraction walks, as the Makefile's --ignore-dirs says: all but hidden
    ones and __pycache__ (Babel's default also skips "_" ones, and templates/_macros/)."""
    name = Path(dirpath).name
    return not name.startswith(".") and name != "__pycache__"


def _catalog():
    with CATALOG.open("rb") as f:
        return read_po(f, locale="zh_Hans_CN")


def _source_messages(visited: list[str] | None = None) -> set[str]:
    found = set()
    visited = [] if visited is None else visited
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT),
        method_map=METHODS,
        options_map=OPTIONS,
        keywords=KEYWORDS,
        directory_filter=_walked,
        callback=lambda filename, _method, _options: visited.append(filename),
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_extraction_reads_the_macros_too():
    visited: list[str] = []
    _source_messages(visited)
    assert "templates/_macros/forms.html" in visited
    assert not any(".venv" in name or "__pycache__" in name for name in visited)


def test_catalog_has_no_untranslated_or_fuzzy_entries():
    catalog = _catalog()
    untranslated = [m.id for m in catalog if m.id and not m.string]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert untranslated == [] and fuzzy == []


def test_every_string_in_the_code_is_in_the_catalog():
    catalog_ids = {m.id for m in _catalog() if m.id}
    missing = sorted(_source_messages() - catalog_ids)
    assert missing == [], "run `make translations-update` and translate: " + repr(missing)


def test_default_locale_is_chinese_and_english_is_selectable(client):
    assert "登录" in client.get("/login").get_data(as_text=True)
    client.post("/language", data={"lang": "en", "next": "/login"})
    page = client.get("/login").get_data(as_text=True)
    assert "Log in" in page and "登录" not in page.replace('lang="zh-CN"', "")


def test_unknown_language_is_ignored(client):
    client.post("/language", data={"lang": "xx"})
    assert "登录" in client.get("/login").get_data(as_text=True)


def test_strings_follow_the_chosen_language_and_a_forced_one(app):
    """gettext (resettle.translate, which keeps the request's translations) answers in the
    session's language, in the forced one inside force_locale, and in the session's again
    after it; templates the same."""
    from flask import render_template_string, session
    from flask_babel import force_locale

    from resettle.translate import gettext

    # each request has its own app context (and `g`), as in production
    with app.app_context(), app.test_request_context("/"):
        session["lang"] = "en"
        assert gettext("Timeline") == "Timeline"
        assert render_template_string("{{ _('Timeline') }}") == "Timeline"
        with force_locale("zh_Hans_CN"):
            assert gettext("Timeline") == "办理进度"
            assert render_template_string("{{ _('Timeline') }}") == "办理进度"
        assert gettext("Timeline") == "Timeline"
    with app.app_context(), app.test_request_context("/"):
        assert gettext("Timeline") == "办理进度"  # Chinese first
        assert render_template_string("{{ _('by %(date)s', date='2025-08-29') }}") == (
            gettext("by %(date)s", date="2025-08-29")
        )
