"""Accounts for the admin (/admin/users): the list with each account's state, a new account,
its role and projects, a password reset, unlock, disable and enable."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import abort, flash, make_response, redirect, render_template, url_for
from flask_login import current_user, login_user

from resettle.auth import bp
from resettle.auth.accounts import (
    AccountState,
    account_states,
    change_access,
    create_account,
    list_accounts,
    reset_account_password,
    reset_account_second_factor,
    set_account_active,
    unlock_account,
)
from resettle.auth.forms import AccessForm, ActionForm, NewAccountForm
from resettle.auth.models import Role, User
from resettle.auth.policy import role_required
from resettle.db import begin_write
from resettle.errors import RuleViolation
from resettle.extensions import db
from resettle.forms import show_violation
from resettle.i18n import ROLE_LABELS
from resettle.projects.models import ExpropriationProject
from resettle.translate import gettext as _


def _choices(form: AccessForm) -> None:
    form.role.choices = [(role.value, ROLE_LABELS[role]) for role in Role]
    projects = db.session.scalars(
        sa.select(ExpropriationProject).order_by(ExpropriationProject.code)
    )
    form.projects.choices = [(p.id, f"{p.code} {p.name}") for p in projects]


def _write(change: Callable[[], Any]) -> Any:
    """Run one account change in its own write transaction (the read that loaded the page ends
    first, so on SQLite two admins queue on the write lock); roll back on a refusal."""
    db.session.commit()
    begin_write(db.session)
    try:
        result = change()
    except RuleViolation:
        db.session.rollback()
        raise
    db.session.commit()
    return result


def _account(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


@bp.route("/admin/users")
@role_required(Role.ADMIN)
def users():
    return render_template(
        "auth/users.html", rows=list_accounts(db.session), AccountState=AccountState
    )


@bp.route("/admin/users/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def new_user():
    form = NewAccountForm()
    _choices(form)
    if form.validate_on_submit():
        try:
            user = _write(
                lambda: create_account(
                    db.session,
                    form.username.data,
                    form.full_name.data,
                    Role(form.role.data),
                    form.password.data,
                    unit_name=form.unit_name.data,
                    all_projects=form.all_projects.data,
                    project_ids=form.projects.data or [],
                )
            )
        except RuleViolation as exc:
            show_violation(form, exc, "username")
        else:
            flash(
                _(
                    "Account %(name)s created: %(who)s chooses an own password at the first login.",
                    name=user.username,
                    who=user.full_name,
                ),
                "success",
            )
            return redirect(url_for("auth.user", user_id=user.id))
    return render_template("auth/user_new.html", form=form)


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def user(user_id: int):
    account = _account(user_id)
    form = AccessForm(
        data={
            "role": account.role.value,
            "all_projects": account.all_projects,
            "projects": sorted(account.project_ids),
        }
    )
    _choices(form)
    if form.validate_on_submit():
        try:
            account = _write(
                lambda: change_access(
                    db.session,
                    user_id,
                    Role(form.role.data),
                    form.all_projects.data,
                    form.projects.data or [],
                    actor_id=current_user.id,
                )
            )
        except RuleViolation as exc:
            show_violation(form, exc, "role")
        else:
            if account.id == current_user.id:
                login_user(account)  # this session goes on under the new token
            flash(_("Account %(name)s saved.", name=account.username), "success")
            return redirect(url_for("auth.user", user_id=user_id))
    return _user_page(account, form)


def _user_page(account: User, form: AccessForm, status: int = 200) -> Any:
    return (
        render_template(
            "auth/user.html",
            account=account,
            form=form,
            actions=ActionForm(),
            states=account_states(account),
            AccountState=AccountState,
        ),
        status,
    )


def _action(user_id: int, change: Callable[[], Any], message: str) -> Any:
    _account(user_id)
    if not ActionForm().validate_on_submit():
        flash(_("The form has expired: please try again."), "error")
        return redirect(url_for("auth.user", user_id=user_id))
    try:
        account = _write(change)
    except RuleViolation as exc:
        flash(exc.message, "error")
    else:
        flash(message % {"name": account.username}, "success")
    return redirect(url_for("auth.user", user_id=user_id))


@bp.route("/admin/users/<int:user_id>/reset-password", methods=["POST"])
@role_required(Role.ADMIN)
def reset_user_password(user_id: int):
    _account(user_id)
    if not ActionForm().validate_on_submit():
        flash(_("The form has expired: please try again."), "error")
        return redirect(url_for("auth.user", user_id=user_id))
    account, password = _write(lambda: reset_account_password(db.session, user_id))
    response = make_response(
        render_template("auth/one_time_password.html", account=account, password=password)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/admin/users/<int:user_id>/unlock", methods=["POST"])
@role_required(Role.ADMIN)
def unlock_user(user_id: int):
    return _action(
        user_id, lambda: unlock_account(db.session, user_id), _("Account %(name)s unlocked.")
    )


@bp.route("/admin/users/<int:user_id>/disable", methods=["POST"])
@role_required(Role.ADMIN)
def disable_user(user_id: int):
    return _action(
        user_id,
        lambda: set_account_active(db.session, user_id, False, actor_id=current_user.id),
        _("Account %(name)s disabled: it is logged out everywhere and cannot log in."),
    )


@bp.route("/admin/users/<int:user_id>/enable", methods=["POST"])
@role_required(Role.ADMIN)
def enable_user(user_id: int):
    return _action(
        user_id,
        lambda: set_account_active(db.session, user_id, True, actor_id=current_user.id),
        _("Account %(name)s enabled."),
    )


@bp.route("/admin/users/<int:user_id>/reset-mfa", methods=["POST"])
@role_required(Role.ADMIN)
def reset_user_mfa(user_id: int):
    return _action(
        user_id,
        lambda: reset_account_second_factor(db.session, user_id),
        _("Second factor of %(name)s reset: the account sets up a new one at its next login."),
    )
