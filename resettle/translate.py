"""gettext for the whole app: Flask-Babel's translations, looked up once per request.

Flask-Babel resolves the request context, the locale and its cache key for every string it
translates: about 10 µs a string here, twice that from a template, and a page has forty or more
(the resident's status page spent most of its rendering time there). This module keeps the
translations of the request's locale on Flask-Babel's own per-request namespace, next to the
locale they belong to, so a changed locale (`force_locale`) is seen at once.
"""

from __future__ import annotations

from typing import Any

from babel.support import NullTranslations
from flask import Flask
from flask.globals import _cv_app
from flask_babel import get_translations
from flask_babel.speaklater import LazyString
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup


def current_translations() -> NullTranslations:
    """The translations of the current locale (the same object Flask-Babel would return)."""
    app_ctx = _cv_app.get(None)
    if app_ctx is None:
        return get_translations()
    ns = app_ctx.g.__dict__.get("_flask_babel")
    if ns is not None:
        kept = ns.__dict__
        cached = kept.get("resettle_translations")
        if cached is not None and cached[0] is kept.get("babel_locale") is not None:
            return cached[1]
    translations = get_translations()  # selects the locale and keeps it on g._flask_babel
    ns = app_ctx.g.__dict__.get("_flask_babel")
    if ns is not None and getattr(ns, "babel_locale", None) is not None:
        ns.resettle_translations = (ns.babel_locale, translations)
    return translations


def gettext(string: str, **variables: Any) -> str:
    """Translate `string` to the current locale, then fill in `variables` (%-style)."""
    text = current_translations().ugettext(string)
    return text % variables if variables else text


def lazy_gettext(string: str, **variables: Any) -> LazyString:
    """A string translated when it is used (labels defined at import time)."""
    return LazyString(gettext, string, **variables)


@pass_eval_context
def _template_gettext(__eval_ctx: EvalContext, __string: str, **variables: Any) -> str:
    """`_()` and `{% trans %}` in templates, as Jinja's new-style gettext behaves (escaped,
    always %-formatted) but in one call instead of Jinja's three nested context calls, and
    without the copy of the whole context Jinja makes for a context function in a loop."""
    text = current_translations().ugettext(__string)
    if not variables and "%" not in text:
        return Markup(text) if __eval_ctx.autoescape else text
    if __eval_ctx.autoescape:
        text = Markup(text)
    return text % variables


def install_jinja_gettext(app: Flask) -> None:
    """Templates translate with the same per-request translations (after Babel.init_app):
    Jinja's new-style callables for the plural and context forms, and `gettext` / `_`
    replaced by the one-call version."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: current_translations().ugettext(s),
        ngettext=lambda s, p, n: current_translations().ungettext(s, p, n),
        pgettext=lambda c, s: current_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: current_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.jinja_env.globals.update(gettext=_template_gettext, _=_template_gettext)
