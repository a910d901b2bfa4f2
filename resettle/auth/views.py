"""Login, logout and the own password."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from resettle.audit.services import record_event
from resettle.auth import bp
from resettle.auth.forms import ChangePasswordForm, LoginForm
from resettle.auth.policy import logged_in, public
from resettle.auth.services import authenticate, change_password, end_sessions
from resettle.db import begin_write, utcnow
from resettle.errors import RuleViolation
from resettle.extensions import db, limiter
from resettle.forms import show_violation
from resettle.translate import gettext as _


def safe_next(target: str | None) -> str | None:
    """Only a path inside this site: no scheme, no host, no protocol-relative or backslash tricks."""
    if not target:
        return None
    target = target.strip()
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    if any(ord(c) < 32 for c in target):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit("30 per minute", methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or url_for("dashboard.index"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        begin_write(db.session)
        user = authenticate(db.session, form.username.data, form.password.data)
        if user is None:
            db.session.commit()
            flash(_("Wrong username or password, or the account is locked for a while."), "error")
            return render_template("auth/login.html", form=form), 200
        session.clear()
        login_user(user)
        session.permanent = True
        session["login_at"] = session["last_seen"] = utcnow().timestamp()
        db.session.commit()
        return redirect(safe_next(form.next.data) or url_for("dashboard.index"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@logged_in
def logout():
    user_id = current_user.id
    db.session.commit()  # the read that loaded the user ends; the audit row writes on its own
    begin_write(db.session)
    record_event(db.session, "logout", "User", user_id)
    end_sessions(db.session, user_id)
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@logged_in
def password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            change_password(
                db.session, current_user, form.current_password.data, form.new_password.data
            )
        except RuleViolation as exc:
            db.session.rollback()
            show_violation(form, exc, "new_password")
        else:
            db.session.commit()
            login_user(current_user)  # this session goes on under the new token; others ended
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("dashboard.index"))
    return render_template("auth/password.html", form=form)
