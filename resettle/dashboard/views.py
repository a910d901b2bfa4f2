"""The start page and the language switch."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, session, url_for

from resettle.auth.policy import logged_in, public
from resettle.auth.views import safe_next
from resettle.dashboard import bp
from resettle.dashboard.services import dashboard_figures
from resettle.extensions import db


@bp.route("/")
@logged_in
def index():
    return render_template("dashboard/index.html", figures=dashboard_figures(db.session))


@bp.route("/language", methods=["POST"])
@public
def language():
    lang = request.form.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    return redirect(safe_next(request.form.get("next")) or url_for("dashboard.index"))
