"""Settings for resettle, read from environment variables and an optional settings file.

Every setting is documented in README.md ("Settings"). `create_app()` picks the class named by
`RESETTLE_ENV` (development, testing, production; default development) unless given a config.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


class ConfigError(RuntimeError):
    """Raised when the configuration cannot be used; the message says what to set."""


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for postgresql:// URLs, the driver this project installs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _optional_url(name: str) -> str | None:
    value = os.environ.get(name)
    return normalise_database_url(value) if value else None


class BaseConfig:
    ENV_NAME = "base"
    SECRET_KEY: str | None = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI: str | None = None
    # The tables' owner, which `flask db upgrade` connects as (unset: DATABASE_URL's own user);
    # the application's user is then granted what it needs and no more (resettle/dbroles.py).
    MIGRATION_DATABASE_URL: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    # Sessions: idle sessions end after 30 minutes; cookies are not readable from JavaScript.
    PERMANENT_SESSION_LIFETIME = timedelta(
        minutes=int(os.environ.get("SESSION_IDLE_MINUTES", "30"))
    )
    # However active, a session ends this long after its login (等保: a session has an end).
    SESSION_ABSOLUTE_LIFETIME = timedelta(hours=int(os.environ.get("SESSION_ABSOLUTE_HOURS", "12")))
    # A password older than this many days is changed before anything else (0: never).
    PASSWORD_MAX_AGE_DAYS = int(os.environ.get("PASSWORD_MAX_AGE_DAYS", "90"))
    SESSION_REFRESH_EACH_REQUEST = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # the CSRF token lives as long as the session
    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "resettle" / "translations")
    LANGUAGES = {"zh_Hans_CN": "中文", "en": "English"}
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    # No X-RateLimit-* headers: each would cost the limiter one more storage round trip per
    # request, and the pages say in words when to try again.
    RATELIMIT_HEADERS_ENABLED = False
    # A second factor (authenticator app) for every staff account; admins need one always.
    MFA_REQUIRED = _env_bool("MFA_REQUIRED", False)
    LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", "5"))
    LOGIN_LOCK_MINUTES = int(os.environ.get("LOGIN_LOCK_MINUTES", "30"))
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_UPLOAD_MB", "20")) * 1024 * 1024
    # Limits of an imported spreadsheet (rows with data per sheet; unpacked size of an .xlsx).
    IMPORT_MAX_ROWS = int(os.environ.get("IMPORT_MAX_ROWS", "20000"))
    IMPORT_MAX_UNPACKED_MB = int(os.environ.get("IMPORT_MAX_UNPACKED_MB", "100"))
    # A ledger of more rows than this is checked and imported by a background job (its preview
    # and its confirmation); smaller ones answer at once.
    IMPORT_JOB_ROWS = int(os.environ.get("IMPORT_JOB_ROWS", "300"))
    # Public lookups (limits in Flask-Limiter's notation; counted in RATELIMIT_STORAGE_URI):
    # every status lookup per address, failed lookups per case number, verifications per address.
    PUBLIC_LOOKUP_LIMIT_IP = os.environ.get("PUBLIC_LOOKUP_LIMIT_IP", "10 per minute;60 per hour")
    PUBLIC_LOOKUP_LIMIT_CASE = os.environ.get("PUBLIC_LOOKUP_LIMIT_CASE", "5 per 15 minutes")
    PUBLIC_VERIFY_LIMIT_IP = os.environ.get("PUBLIC_VERIFY_LIMIT_IP", "30 per minute")
    # Public project pages are kept this many seconds in each worker's memory (0: never).
    PUBLIC_PAGE_CACHE_SECONDS = int(os.environ.get("PUBLIC_PAGE_CACHE_SECONDS", "5"))
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")  # notice QR codes
    # Reverse proxies in front of the application (0: none). With 1, the client's address is the
    # last one the proxy adds to X-Forwarded-For, which limits and the audit trail then see.
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
    # Audit rows older than this many days may be pruned (`flask audit prune`); 0 keeps them for
    # ever. At least AUDIT_RETENTION_MINIMUM_DAYS (网络安全法 Art. 21: six months) when set.
    AUDIT_RETENTION_DAYS = os.environ.get("AUDIT_RETENTION_DAYS", "0")
    # Processes that render a large many-part PDF (a notice batch) side by side, joined into one
    # document (resettle/documents/rendering.py); 1 renders in the request's own process.
    RENDER_PROCESSES = int(os.environ.get("RENDER_PROCESSES", str(min(os.cpu_count() or 1, 4))))
    # Documents of fewer parts render in one process; the parts go to the workers this many
    # at a time.
    RENDER_PARALLEL_MIN_PARTS = int(os.environ.get("RENDER_PARALLEL_MIN_PARTS", "40"))
    RENDER_CHUNK_PARTS = int(os.environ.get("RENDER_CHUNK_PARTS", "100"))
    # Strict-Transport-Security max-age in seconds (0: no header; production sends a year).
    HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS", "0"))
    # Background jobs (resettle/jobs): the queue (a SQLite file by default; redis://… when
    # several machines run workers), the folder their files are kept in (shared by every web
    # and worker machine), how long files are kept (at least 24 hours), and after how many
    # seconds without a heartbeat a running job's worker counts as lost.
    JOBS_QUEUE_URL = os.environ.get(
        "JOBS_QUEUE_URL", f"sqlite:///{INSTANCE_DIR / 'jobs-queue.sqlite3'}"
    )
    JOB_FILES_DIR = os.environ.get("JOB_FILES_DIR", str(INSTANCE_DIR / "job-files"))
    JOB_FILES_KEEP_HOURS = int(os.environ.get("JOB_FILES_KEEP_HOURS", "48"))
    JOB_STALE_SECONDS = int(os.environ.get("JOB_STALE_SECONDS", "120"))
    JOBS_IMMEDIATE = False  # tests: a job runs inside the request that submits it
    # Where a backup started from the admin page is written (on the machine the worker runs
    # on; the file holds every ID number, so it is never offered as a download).
    BACKUP_DIR = os.environ.get("BACKUP_DIR", str(INSTANCE_DIR / "backups"))


class DevelopmentConfig(BaseConfig):
    ENV_NAME = "development"
    DEBUG = False  # the debugger would show tracebacks; errors show the Chinese error page instead

    def __init__(self) -> None:
        INSTANCE_DIR.mkdir(exist_ok=True)
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(
            os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'resettle.sqlite3'}")
        )
        self.MIGRATION_DATABASE_URL = _optional_url("MIGRATION_DATABASE_URL")
        self.SECRET_KEY = os.environ.get("SECRET_KEY") or _instance_secret_key()


class TestingConfig(BaseConfig):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-only-secret-key"
    WTF_CSRF_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_ENABLED = False  # tests that check limits turn it on
    PUBLIC_PAGE_CACHE_SECONDS = 0  # tests that check the page cache turn it on
    JOBS_IMMEDIATE = True  # the worker tests start real workers on a queue of their own

    def __init__(self) -> None:
        import tempfile

        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(
            os.environ.get("TEST_DATABASE_URL", "sqlite://")
        )
        self.JOB_FILES_DIR = tempfile.mkdtemp(prefix="resettle-test-job-files-")
        self.BACKUP_DIR = tempfile.mkdtemp(prefix="resettle-test-backups-")


class ProductionConfig(BaseConfig):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    # `__Host-` cookies are HTTPS-only, for this host only and for the whole site: no other
    # subdomain can set or read them.
    SESSION_COOKIE_NAME = "__Host-session"
    REMEMBER_COOKIE_NAME = "__Host-remember_token"
    HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS", str(365 * 24 * 3600)))
    MFA_REQUIRED = _env_bool("MFA_REQUIRED", True)

    def __init__(self) -> None:
        missing = [name for name in ("SECRET_KEY", "DATABASE_URL") if not os.environ.get(name)]
        if missing:
            raise ConfigError(
                "resettle refuses to start in production without "
                + " and ".join(missing)
                + ": set them as environment variables (see README.md, Settings)."
            )
        self.SECRET_KEY = os.environ["SECRET_KEY"]
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(os.environ["DATABASE_URL"])
        self.MIGRATION_DATABASE_URL = _optional_url("MIGRATION_DATABASE_URL")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


AUDIT_RETENTION_MINIMUM_DAYS = 180


def refuse_unusable_settings(settings: Any) -> None:
    """Raise ConfigError for settings the application cannot run with (some only in
    production), once every source is read."""
    days = settings.get("AUDIT_RETENTION_DAYS", 0)
    try:
        days = int(days)
    except (TypeError, ValueError):
        raise ConfigError(
            f"resettle refuses to start with AUDIT_RETENTION_DAYS={days!r}: give a whole "
            "number of days."
        ) from None
    if days != 0 and days < AUDIT_RETENTION_MINIMUM_DAYS:
        raise ConfigError(
            f"resettle refuses to start with AUDIT_RETENTION_DAYS={days}: audit rows must be "
            f"kept at least {AUDIT_RETENTION_MINIMUM_DAYS} days (网络安全法 Art. 21). Set "
            f"{AUDIT_RETENTION_MINIMUM_DAYS} or more, or 0 to keep them for ever."
        )
    settings["AUDIT_RETENTION_DAYS"] = days
    if settings.get("ENV_NAME") != "production":
        return
    host = urlsplit(str(settings.get("PUBLIC_BASE_URL") or "")).hostname or ""
    if host in ("", "localhost", "::1") or host.startswith("127."):
        raise ConfigError(
            "resettle refuses to start in production with PUBLIC_BASE_URL="
            f"{settings.get('PUBLIC_BASE_URL')!r}: it is printed in every notice's QR code and "
            "verification address, and residents cannot reach this machine's own address. Set "
            "PUBLIC_BASE_URL to the public address of the verification pages, e.g. "
            "https://zhengqian.example.gov.cn (see README.md, Settings)."
        )
    if str(settings.get("RATELIMIT_STORAGE_URI", "")).startswith("memory://"):
        raise ConfigError(
            "resettle refuses to start in production with RATELIMIT_STORAGE_URI=memory://: "
            "each worker would count on its own and let through several times the limit. "
            "Set RATELIMIT_STORAGE_URI to a shared store, e.g. redis://127.0.0.1:6379/0 "
            "(see README.md, Settings)."
        )


def _instance_secret_key() -> str:
    """A development secret kept in instance/ so logins survive a restart of `make run`."""
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def load_config(name: str | None = None) -> BaseConfig:
    """Instantiate the config class named by `name` or by RESETTLE_ENV."""
    name = name or os.environ.get("RESETTLE_ENV", "development")
    try:
        cls = CONFIGS[name]
    except KeyError:
        raise ConfigError(
            f"unknown RESETTLE_ENV {name!r}: use one of {', '.join(sorted(CONFIGS))}"
        ) from None
    return cls()
