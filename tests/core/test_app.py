"""The application factory and configuration."""

import pytest

from config import ConfigError, ProductionConfig, load_config
from resettle import create_app


def test_production_refuses_to_start_without_secret_and_database(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(ConfigError) as excinfo:
        create_app("production")
    assert "SECRET_KEY" in str(excinfo.value) and "DATABASE_URL" in str(excinfo.value)


def test_production_refuses_without_database_even_with_secret(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        load_config("production")


def test_production_reads_settings_from_environment(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "s" * 32)
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db/resettle")
    config = ProductionConfig()
    assert config.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://u@db/resettle"
    assert config.SESSION_COOKIE_SECURE is True


def test_settings_file_named_by_resettle_config_overrides(tmp_path, monkeypatch):
    settings = tmp_path / "settings.py"
    settings.write_text("LOGIN_LOCK_MINUTES = 45\n")
    monkeypatch.setenv("RESETTLE_CONFIG", str(settings))
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["LOGIN_LOCK_MINUTES"] == 45


def test_unknown_environment_name_is_a_clear_error():
    with pytest.raises(ConfigError, match="unknown RESETTLE_ENV"):
        load_config("staging")


def test_cookies_are_httponly_and_lax(app):
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["PERMANENT_SESSION_LIFETIME"].total_seconds() == 30 * 60


def test_create_app_runs_no_queries(monkeypatch):
    import sqlalchemy as sa

    calls = []
    monkeypatch.setattr(sa.engine.Engine, "connect", lambda self: calls.append(self))
    create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert calls == []
