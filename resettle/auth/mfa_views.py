"""The own second factor (/account/two-factor): enrol an authenticator app by its QR code, see
how many recovery codes are left, and make new ones after typing the password again."""

from __future__ import annotations

import secrets
from typing import Any

from flask import flash, make_response, redirect, render_template, request, session, url_for
from flask_login import current_user

from resettle.auth import bp
from resettle.auth.forms import EnrolForm, ReauthenticateForm
from resettle.auth.mfa import (
    confirm_enrolment,
    decrypt_secret,
    encrypt_secret,
    has_second_factor,
    must_enrol,
    new_recovery_codes,
    new_secret,
    qr_svg,
    recovery_codes_left,
    second_factor_required,
)
from resettle.auth.models import User
from resettle.auth.policy import logged_in
from resettle.auth.services import count_failed_login, last_attempt, verify_password
from resettle.errors import RuleViolation
from resettle.extensions import db, limiter
from resettle.forms import show_violation
from resettle.translate import gettext as _

_PENDING = "pending_totp"
#: What an account that must enrol can still open (besides the password change before it).
ENROLMENT_ENDPOINTS = frozenset(
    {"auth.two_factor", "auth.password", "auth.logout", "static", "dashboard.language"}
)


def _pending_secret() -> tuple[str, str]:
    """The secret being enrolled in this session (kept encrypted in the session cookie until
    a code confirms it), and the attempt that marks this enrolment; made on the first visit."""
    pending = session.get(_PENDING)
    secret = decrypt_secret(pending.get("secret", "")) if isinstance(pending, dict) else None
    if secret is None:
        secret = new_secret()
        pending = {"secret": encrypt_secret(secret), "attempt": secrets.token_urlsafe(12)}
        session[_PENDING] = pending
    return secret, pending["attempt"]


def _locked_self() -> User:
    """The own account, its row locked for the change (on SQLite the POST holds the write
    lock already), so a double click or two tabs do not enrol twice."""
    return db.session.get(User, current_user.id, with_for_update=True, populate_existing=True)


def _show_codes(codes: list[str], *, replaced: bool = False) -> Any:
    response = make_response(
        render_template("auth/recovery_codes.html", codes=codes, replaced=replaced)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/account/two-factor", methods=["GET", "POST"])
@logged_in
def two_factor():
    user = current_user
    if request.method == "POST":
        user = _locked_self()
    if has_second_factor(user):
        pending = session.get(_PENDING)
        if (
            request.method == "POST"
            and isinstance(pending, dict)
            and last_attempt(db.session, user, "mfa_enrolled") == pending.get("attempt")
        ):
            # The confirmation sent twice (a double click): the page with the codes of the first
            # one is gone, so this one shows a new set (the first set no longer works).
            session.pop(_PENDING, None)
            codes = new_recovery_codes(db.session, user)
            db.session.commit()
            return _show_codes(codes, replaced=True)
        if request.method == "POST":
            return redirect(url_for("auth.two_factor"))
        return render_template(
            "auth/two_factor.html",
            left=recovery_codes_left(db.session, user),
            required=second_factor_required(user),
            form=ReauthenticateForm(),
        )
    secret, attempt = _pending_secret()
    form = EnrolForm()
    if form.validate_on_submit():
        try:
            codes = confirm_enrolment(db.session, user, secret, form.code.data, attempt=attempt)
        except RuleViolation as exc:
            db.session.rollback()
            show_violation(form, exc, "code")
        else:
            db.session.commit()
            return _show_codes(codes)
    return render_template(
        "auth/two_factor_enrol.html",
        form=form,
        qr=qr_svg(user, secret),
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        required=must_enrol(user),
    )


@bp.route("/account/two-factor/codes", methods=["POST"])
@logged_in
@limiter.limit("10 per minute")
def new_codes():
    """Ten new recovery codes, the old ones void; the password is asked again first."""
    user = _locked_self()
    form = ReauthenticateForm()
    if not has_second_factor(user):
        return redirect(url_for("auth.two_factor"))
    if form.validate_on_submit() and verify_password(user.password_hash, form.password.data):
        codes = new_recovery_codes(db.session, user)
        db.session.commit()
        return _show_codes(codes)
    if form.is_submitted() and form.password.data:
        count_failed_login(db.session, user, "reauth_failed")  # guessing here counts too
    db.session.commit()
    flash(_("The password is not right: no new codes were made."), "error")
    return redirect(url_for("auth.two_factor"))
