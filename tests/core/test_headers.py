"""Security headers, proxies and the settings production refuses."""

import re

import pytest
from flask_limiter.util import get_remote_address

from config import ConfigError, load_config
from resettle import create_app
from resettle.auth.policy import public
from tests.conftest import make_test_app


def _nonce(response):
    policy = response.headers["Content-Security-Policy"]
    match = re.search(r"script-src 'self' 'nonce-([^']+)'", policy)
    assert match, policy
    return match.group(1)


def test_every_page_has_a_content_security_policy_with_a_fresh_nonce(client, login_as):
    first = client.get("/login")
    second = client.get("/login")
    assert _nonce(first) != _nonce(second)
    policy = first.headers["Content-Security-Policy"]
    assert "object-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy.split("style-src-attr")[0]  # no inline script
    login_as("caseworker")
    page = client.get("/")
    assert f'nonce="{_nonce(page)}"' in page.get_data(as_text=True)


def test_no_template_has_inline_script_or_event_handlers():
    from pathlib import Path

    templates = Path(__file__).resolve().parents[2] / "templates"
    offenders = []
    for path in templates.rglob("*.html"):
        if "pdf" in path.parts:  # printed by WeasyPrint, never shown by a browser
            continue
        text = path.read_text()
        if re.search(r"\son[a-z]+\s*=", text) or re.search(r"<script(?![^>]*\bsrc=)", text):
            offenders.append(str(path.relative_to(templates)))
        if re.search(r"<style(?![^>]*nonce=)", text):
            offenders.append(str(path.relative_to(templates)))
    assert offenders == []


def test_staff_pages_are_not_stored_but_public_pages_may_be(client, login_as, make_project):
    make_project(code="HDR1")
    assert "no-store" not in client.get("/public/").headers.get("Cache-Control", "")
    login_as("caseworker")
    assert client.get("/").headers["Cache-Control"] == "no-store"
    assert client.get("/households/").headers["Cache-Control"] == "no-store"


def test_hsts_is_off_outside_production(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_hsts_when_configured(database_url):
    app = make_test_app(database_url, HSTS_SECONDS=31536000)
    response = app.test_client().get("/login")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def _production_settings(monkeypatch, storage):
    monkeypatch.setenv("SECRET_KEY", "s" * 32)
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    monkeypatch.delenv("RESETTLE_CONFIG", raising=False)
    settings = load_config("production")
    settings.RATELIMIT_STORAGE_URI = storage  # as RATELIMIT_STORAGE_URI in the environment
    settings.PUBLIC_BASE_URL = "https://zhengqian.example.gov.cn"
    return settings


@pytest.mark.parametrize(
    "address", ["http://127.0.0.1:5000", "http://localhost:5000/", "", "http://[::1]:8000"]
)
def test_production_refuses_a_public_address_residents_cannot_reach(monkeypatch, address):
    settings = _production_settings(monkeypatch, "redis://127.0.0.1:6379/0")
    settings.PUBLIC_BASE_URL = address
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
        create_app(settings)


def test_production_refuses_to_start_with_memory_limiter_storage(monkeypatch):
    settings = _production_settings(monkeypatch, "memory://")
    with pytest.raises(ConfigError, match="RATELIMIT_STORAGE_URI=memory://") as excinfo:
        create_app(settings)
    assert "redis://" in str(excinfo.value)  # says what to set instead


def test_production_settings_file_cannot_bring_back_memory_storage(tmp_path, monkeypatch):
    settings = _production_settings(monkeypatch, "redis://127.0.0.1:6379/0")
    path = tmp_path / "settings.py"
    path.write_text('RATELIMIT_STORAGE_URI = "memory://"\n')
    monkeypatch.setenv("RESETTLE_CONFIG", str(path))
    with pytest.raises(ConfigError, match="memory://"):
        create_app(settings)


def test_production_uses_host_cookies_and_hsts(monkeypatch):
    settings = _production_settings(monkeypatch, "redis://127.0.0.1:6379/0")
    assert settings.SESSION_COOKIE_SECURE is True
    assert settings.HSTS_SECONDS >= 180 * 24 * 3600
    app = create_app(settings)
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-session"
    assert app.config["REMEMBER_COOKIE_NAME"].startswith("__Host-")


def _address_app(database_url, **overrides):
    app = make_test_app(database_url, **overrides)

    @app.route("/whoami")
    @public
    def whoami():
        return get_remote_address()

    return app.test_client()


def test_behind_one_trusted_proxy_the_client_address_is_the_forwarded_one(database_url):
    client = _address_app(database_url, TRUSTED_PROXIES=1)
    response = client.get(
        "/whoami",
        headers={"X-Forwarded-For": "203.0.113.9, 198.51.100.7"},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
    )
    assert response.get_data(as_text=True) == "198.51.100.7"  # the proxy's own entry, not spoofed


def test_without_trusted_proxies_a_forwarded_header_is_ignored(database_url):
    client = _address_app(database_url)
    response = client.get(
        "/whoami",
        headers={"X-Forwarded-For": "203.0.113.9"},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
    )
    assert response.get_data(as_text=True) == "10.0.0.2"
