"""Login, logout and the own password."""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from resettle.audit.services import record_event
from resettle.auth import bp
from resettle.auth.forms import ChangePasswordForm, LoginForm, SecondFactorForm
from resettle.auth.mfa import has_second_factor, verify_second_factor
from resettle.auth.models import User
from resettle.auth.policy import logged_in, public
from resettle.auth.services import (
    authenticate,
    change_password,
    complete_login,
    end_sessions,
    last_attempt,
    login_locked,
)
from resettle.db import begin_write, database_int, utcnow
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


#: How long the code page waits for the second factor after a right password.
SECOND_STEP_SECONDS = 300
_PENDING = "pending_login"


def _start_session(user: User) -> None:
    """A new session for a completed login: nothing of the one before it is kept."""
    session.clear()
    login_user(user)
    session.permanent = True
    session["login_at"] = session["last_seen"] = utcnow().timestamp()


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
        target = safe_next(form.next.data) or url_for("dashboard.index")
        if has_second_factor(user):
            # Not logged in yet: the session only remembers who passed the first step, when.
            db.session.commit()
            session.clear()
            session[_PENDING] = {
                "user": f"{user.id}.{user.session_token}",
                "at": utcnow().timestamp(),
                "attempt": secrets.token_urlsafe(12),
                "next": target,
            }
            return redirect(url_for("auth.login_code"))
        complete_login(db.session, user)
        _start_session(user)
        db.session.commit()
        return redirect(target)
    return render_template("auth/login.html", form=form)


def _pending_login(*, lock: bool = False) -> tuple[User, dict[str, Any]] | None:
    """The account that passed the password step in this session, while the code may still
    be given: not after SECOND_STEP_SECONDS, nor once the account's sessions were ended."""
    pending = session.get(_PENDING)
    if not isinstance(pending, dict):
        return None
    user_id, _dot, token = str(pending.get("user", "")).partition(".")
    try:
        started = float(pending.get("at", 0))
        user = db.session.get(User, database_int(user_id), with_for_update=lock or None)
    except (TypeError, ValueError):
        return None
    if (
        user is None
        or not user.active
        or not hmac.compare_digest(user.session_token, token)
        or utcnow().timestamp() - started > SECOND_STEP_SECONDS
    ):
        return None
    return user, pending


@bp.route("/login/code", methods=["GET", "POST"])
@public
@limiter.limit("30 per minute", methods=["POST"])
def login_code():
    """The second step of a login: the authenticator app's code or a recovery code."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    found = _pending_login(lock=request.method == "POST")
    if found is None:
        session.pop(_PENDING, None)
        flash(_("Please log in again: the code was not given in time."), "info")
        return redirect(url_for("auth.login"))
    user, pending = found
    form = SecondFactorForm()
    if form.validate_on_submit():
        if last_attempt(db.session, user, "login") == pending["attempt"]:
            # The same form sent twice (a double click): its twin checked the code already.
            _start_session(user)
            db.session.commit()
            return redirect(pending["next"])
        if login_locked(user):
            record_event(
                db.session, "login_refused_locked", "User", user.id, actor=user.username,
                user_id=user.id,
            )  # fmt: skip
            db.session.commit()
            session.pop(_PENDING, None)
            flash(_("Wrong username or password, or the account is locked for a while."), "error")
            return redirect(url_for("auth.login"))
        if verify_second_factor(db.session, user, form.code.data):
            complete_login(db.session, user, second_factor=True, attempt=pending["attempt"])
            _start_session(user)
            db.session.commit()
            return redirect(pending["next"])
        db.session.commit()  # the failure counts toward the lock
        if login_locked(user):
            session.pop(_PENDING, None)
            flash(_("Wrong username or password, or the account is locked for a while."), "error")
            return redirect(url_for("auth.login"))
        flash(_("That code is not right, or it was used already: try the next one."), "error")
    return render_template("auth/login_code.html", form=form)


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
