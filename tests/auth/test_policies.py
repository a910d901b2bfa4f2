"""Every route declares who may use it, and the app enforces it (fail closed)."""

from __future__ import annotations

import pytest
from flask import Flask

from resettle.auth.models import Role
from resettle.auth.policy import EXEMPT_ENDPOINTS
from tests.conftest import make_test_app

A, C, S, L = Role.ADMIN, Role.CASEWORKER, Role.SUPERVISOR, Role.LEADER
ALL = {A, C, S, L}
PUBLIC = "public"

EDITORS = {A, C}

# The intended matrix, written out by hand: adding an endpoint means adding a line here.
# endpoint -> (method, sample path, who may use it, status an allowed user gets)
# Paths may name {user_id}, {project_id} and {household_id}: made fresh for each test.
EXPECTED: dict[str, tuple[str, str, object, int]] = {
    "auth.login": ("GET", "/login", PUBLIC, 200),
    "auth.logout": ("POST", "/logout", ALL, 302),
    "auth.password": ("GET", "/account/password", ALL, 200),
    "dashboard.index": ("GET", "/", ALL, 200),
    "dashboard.language": ("POST", "/language", PUBLIC, 302),
    "audit.index": ("GET", "/audit/", {A, S}, 200),
    "audit.record": ("GET", "/audit/User/{user_id}", {A, S}, 200),
    "projects.index": ("GET", "/projects/", ALL, 200),
    "projects.new": ("GET", "/projects/new", EDITORS, 200),
    "projects.edit": ("GET", "/projects/{project_id}/edit", EDITORS, 200),
    "households.index": ("GET", "/households/", ALL, 200),
    "households.new": ("GET", "/households/new", EDITORS, 200),
    "households.detail": ("GET", "/households/{household_id}", ALL, 200),
    "households.edit": ("GET", "/households/{household_id}/edit", EDITORS, 200),
    "households.record": ("POST", "/households/{household_id}/steps", EDITORS, 200),
    "households.undo": ("POST", "/households/{household_id}/undo", {S, A}, 200),
    "households.payment": ("POST", "/households/{household_id}/payments", EDITORS, 200),
}


def undeclared_endpoints(app: Flask) -> list[str]:
    """Endpoints whose view declares no access policy."""
    return sorted(
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in EXEMPT_ENDPOINTS
        and getattr(app.view_functions[rule.endpoint], "access_policy", None) is None
    )


def test_every_endpoint_declares_a_policy(app):
    assert undeclared_endpoints(app) == []


def test_every_endpoint_is_in_the_expected_matrix(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()} - EXEMPT_ENDPOINTS
    assert endpoints == set(EXPECTED), "update EXPECTED in this test for new or removed routes"


def test_a_route_without_policy_is_caught_and_refused():
    app = make_test_app("sqlite://")

    @app.route("/forgotten")
    def forgotten():
        return "secret"

    assert undeclared_endpoints(app) == ["forgotten"]
    response = app.test_client().get("/forgotten")
    assert response.status_code == 403
    assert "secret" not in response.get_data(as_text=True)


@pytest.mark.parametrize("endpoint", sorted(EXPECTED))
def test_anonymous_is_sent_to_login_unless_public(client, endpoint):
    method, path, allowed, _status = EXPECTED[endpoint]
    response = client.open(path.format(user_id=1, project_id=1, household_id=1), method=method)
    if allowed == PUBLIC:
        assert response.status_code in (200, 302)
        if response.status_code == 302:
            assert not response.headers["Location"].startswith("/login")
    else:
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("endpoint", sorted(e for e, v in EXPECTED.items() if v[2] != PUBLIC))
def test_role_matrix(client, login_as, make_household, role, endpoint):
    method, path, allowed, status = EXPECTED[endpoint]
    user = login_as(role)
    household = make_household()
    response = client.open(
        path.format(user_id=user.id, project_id=household.project_id, household_id=household.id),
        method=method,
    )
    if role in allowed:
        assert response.status_code == status
    else:
        assert response.status_code == 403
        assert "无权访问" in response.get_data(as_text=True)
