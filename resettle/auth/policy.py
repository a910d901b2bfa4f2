"""Who may use which route. Every endpoint declares a policy; the app refuses undeclared ones."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import abort, current_app, request, session
from flask_login import current_user

from resettle.auth.models import Role

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class AccessPolicy:
    """`public`: anyone; otherwise a logged-in user whose role is in `roles` (empty: any role)."""

    public: bool = False
    roles: frozenset[Role] = frozenset()

    def allows(self, user: Any) -> bool:
        if self.public:
            return True
        if not user.is_authenticated:
            return False
        return not self.roles or user.role in self.roles


ALL_ROLES = frozenset(Role)
STAFF_WRITE = frozenset({Role.ADMIN, Role.CASEWORKER})


def _declare(policy: AccessPolicy) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        view.access_policy = policy  # type: ignore[attr-defined]
        return view

    return decorate


def public(view: F) -> F:
    """Anyone, without logging in (login page, public disclosure pages)."""
    return _declare(AccessPolicy(public=True))(view)


def logged_in(view: F) -> F:
    """Any logged-in user, whatever the role."""
    return _declare(AccessPolicy(roles=frozenset()))(view)


def role_required(*roles: Role) -> Callable[[F], F]:
    """Only logged-in users with one of `roles`."""
    if not roles:
        raise ValueError("role_required needs at least one role")
    return _declare(AccessPolicy(roles=frozenset(roles)))


def session_user() -> Any:
    """The logged-in user, or None. Flask-Login is not asked when the session names nobody:
    asking hashes the client's address and, for a session holding only a CSRF token (a
    resident's lookup form), makes "strong" session protection rewrite the session and clear
    a remember cookie on every response."""
    if "_user_id" not in session:
        return None
    return current_user if current_user.is_authenticated else None


def policy_for(endpoint: str) -> AccessPolicy | None:
    """The declared policy of an endpoint, or None when it declares none."""
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "access_policy", None)


# Endpoints of extensions that serve files and need no policy of their own.
EXEMPT_ENDPOINTS = frozenset({"static"})


def enforce_access_policy() -> Any:
    """before_request hook: fail closed on undeclared endpoints, redirect anonymous to login."""
    endpoint = request.endpoint
    if endpoint is None or endpoint in EXEMPT_ENDPOINTS:
        return None
    policy = policy_for(endpoint)
    if policy is None:
        current_app.logger.error("endpoint %s declares no access policy", endpoint)
        abort(403)
    if policy.allows(current_user):
        return None
    if not current_user.is_authenticated:
        from resettle.extensions import login_manager

        return login_manager.unauthorized()
    abort(403)
