"""resettle: case management for resettlement after house expropriation (征迁安置)."""

from __future__ import annotations

import hmac
import logging
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import (
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, logout_user
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.routing import IntegerConverter

from config import BaseConfig, load_config, refuse_unusable_settings
from resettle.db import INTEGER_MAX, database_int, write_collision
from resettle.translate import gettext as _

log = logging.getLogger(__name__)


def create_app(config: BaseConfig | dict[str, Any] | str | None = None) -> Flask:
    """Build the application. No queries and no migrations run here; a translation catalog
    whose .mo is missing or older than its .po is compiled (resettle/catalogs.py)."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    app = Flask(
        __name__,
        template_folder=str(root / "templates"),
        static_folder=str(root / "static"),
        instance_path=str(root / "instance"),
    )
    if isinstance(config, dict):
        app.config.from_object(load_config("testing" if config.get("TESTING") else None))
        app.config.update(config)
    elif isinstance(config, str) or config is None:
        app.config.from_object(load_config(config))
    else:
        app.config.from_object(config)
    app.config.from_envvar("RESETTLE_CONFIG", silent=True)
    refuse_unusable_settings(app.config)
    if str(app.config.get("SQLALCHEMY_DATABASE_URI") or "").startswith("sqlite"):
        # A database file cannot drop the connection the way a server can: no ping before
        # every transaction (it cost a statement each, twice per public status lookup).
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
            "pool_pre_ping": False,
        }

    from resettle.sessions import CachedSigningSessionInterface

    app.url_map.converters["int"] = RecordIdConverter

    app.session_interface = CachedSigningSessionInterface()
    if app.config.get("TRUSTED_PROXIES"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        proxies = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    _init_extensions(app)
    _register_blueprints(app)
    _register_hooks(app)
    _register_error_pages(app)
    _register_cli(app)
    _register_template_helpers(app)
    return app


class RecordIdConverter(IntegerConverter):
    """`<int:…>` in a path: a number an Integer column can hold. A larger one is no record
    (404), where the database would have refused the query (an error page)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002
        kwargs.setdefault("max", INTEGER_MAX)
        super().__init__(map, *args, **kwargs)


def _init_extensions(app: Flask) -> None:
    from pathlib import Path

    from resettle.audit import services as _audit_services  # noqa: F401  (flush listener)
    from resettle.catalogs import compile_stale_catalogs
    from resettle.extensions import babel, csrf, db, limiter, login_manager, migrate
    from resettle.i18n import select_locale, select_timezone
    from resettle.translate import install_jinja_gettext

    for directory in app.config.get("BABEL_TRANSLATION_DIRECTORIES", "translations").split(";"):
        compile_stale_catalogs(Path(app.root_path, directory))
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    install_jinja_gettext(app)
    # Templates get the lazy proxy, not Flask-Login's eager context processor: a page that never
    # shows the user (the public ones) then never loads one.
    login_manager.init_app(app, add_context_processor=False)
    app.context_processor(lambda: {"current_user": current_user})
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"

    from resettle.auth.models import User

    @login_manager.user_loader
    def load_user(session_id: str) -> User | None:
        """The account a session names, if its session token is still the account's own."""
        user_id, _dot, token = session_id.partition(".")
        try:
            user = db.session.get(User, database_int(user_id))
        except ValueError:
            return None
        if user is None or not hmac.compare_digest(user.session_token, token):
            return None
        return user

    # Import every model so metadata (and Alembic) see all tables.
    from resettle import models  # noqa: F401
    from resettle.jobs.kinds import register_kinds
    from resettle.jobs.queue import init_queue

    register_kinds()
    init_queue(app)


def _register_blueprints(app: Flask) -> None:
    # The view modules attach routes to the blueprints; import them before registering.
    from resettle.agreements import bp as agreements_bp
    from resettle.agreements import views as _agreement_views  # noqa: F401
    from resettle.audit import bp as audit_bp
    from resettle.audit import views as _audit_views  # noqa: F401
    from resettle.auth import admin_views as _auth_admin_views  # noqa: F401
    from resettle.auth import bp as auth_bp
    from resettle.auth import mfa_views as _auth_mfa_views  # noqa: F401
    from resettle.auth import views as _auth_views  # noqa: F401
    from resettle.backup import bp as backup_bp
    from resettle.backup import views as _backup_views  # noqa: F401
    from resettle.dashboard import bp as dashboard_bp
    from resettle.dashboard import views as _dashboard_views  # noqa: F401
    from resettle.disclosure import bp as disclosure_bp
    from resettle.disclosure import views as _disclosure_views  # noqa: F401
    from resettle.funds import bp as funds_bp
    from resettle.funds import views as _fund_views  # noqa: F401
    from resettle.households import bp as households_bp
    from resettle.households import import_views as _household_import_views  # noqa: F401
    from resettle.households import views as _household_views  # noqa: F401
    from resettle.jobs import bp as jobs_bp
    from resettle.jobs import views as _job_views  # noqa: F401
    from resettle.notices import bp as notices_bp
    from resettle.notices import views as _notice_views  # noqa: F401
    from resettle.plans import bp as plans_bp
    from resettle.plans import views as _plan_views  # noqa: F401
    from resettle.projects import bp as projects_bp
    from resettle.projects import views as _project_views  # noqa: F401
    from resettle.public import bp as public_bp
    from resettle.public import views as _public_views  # noqa: F401
    from resettle.sites import bp as sites_bp
    from resettle.sites import views as _site_views  # noqa: F401
    from resettle.supervision import bp as supervision_bp
    from resettle.supervision import views as _supervision_views  # noqa: F401

    app.register_blueprint(auth_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(audit_bp, url_prefix="/audit")
    app.register_blueprint(projects_bp, url_prefix="/projects")
    app.register_blueprint(households_bp, url_prefix="/households")
    app.register_blueprint(sites_bp, url_prefix="/sites")
    app.register_blueprint(plans_bp, url_prefix="/plans")
    app.register_blueprint(notices_bp, url_prefix="/notices")
    app.register_blueprint(supervision_bp, url_prefix="/supervision")
    app.register_blueprint(funds_bp, url_prefix="/funds")
    app.register_blueprint(agreements_bp)
    app.register_blueprint(public_bp, url_prefix="/public")
    app.register_blueprint(disclosure_bp, url_prefix="/disclosures")
    app.register_blueprint(jobs_bp, url_prefix="/jobs")
    app.register_blueprint(backup_bp)


def _register_hooks(app: Flask) -> None:
    from resettle.auth.mfa import must_enrol
    from resettle.auth.mfa_views import ENROLMENT_ENDPOINTS
    from resettle.auth.policy import enforce_access_policy, policy_for, session_user
    from resettle.auth.services import PASSWORD_CHANGE_ENDPOINTS, password_change_due
    from resettle.public.views import serve_kept_pages

    @app.before_request
    def assign_request_id() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = (
            incoming if incoming.isalnum() and len(incoming) <= 32 else secrets.token_hex(8)
        )

    @app.before_request
    def refuse_nul_characters() -> None:
        """No one types a NUL character (%00); PostgreSQL cannot store one in text and would
        fail the request, SQLite would keep it. Refused as a bad request, on every database."""
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values)
            for sent in (request.args, request.form)
            for key, values in sent.lists()
        ):
            abort(400)

    @app.before_request
    def queue_staff_writes() -> None:
        """A staff form sent (a POST) reads and then writes: on SQLite its transaction takes
        the write lock before anything is read (BEGIN IMMEDIATE), so a double click or two
        people at once queue on the lock and the second one sees what the first saved,
        instead of failing with "database is locked". Resident pages and views marked
        `parses_before_writing` (an upload read for seconds) are left out."""
        if request.method != "POST" or request.path.startswith("/public"):
            return
        view = app.view_functions.get(request.endpoint or "")
        if view is None or getattr(view, "parses_before_writing", False):
            return
        from resettle.db import begin_write
        from resettle.extensions import db

        begin_write(db.session)

    @app.before_request
    def end_idle_sessions() -> Any:
        if session_user() is None:
            return None
        now = datetime.now(UTC).timestamp()
        last_seen = session.get("last_seen")
        logged_in_at = session.get("login_at")
        idle_limit: timedelta = app.config["PERMANENT_SESSION_LIFETIME"]
        absolute_limit: timedelta = app.config["SESSION_ABSOLUTE_LIFETIME"]
        if logged_in_at is None or now - float(logged_in_at) > absolute_limit.total_seconds():
            message = _(
                "Your session has lasted %(hours)d hours, the longest one may: please log in "
                "again.",
                hours=absolute_limit.total_seconds() // 3600,
            )
        elif last_seen is not None and now - float(last_seen) > idle_limit.total_seconds():
            message = _("Your session ended after a period of inactivity. Please log in again.")
        else:
            session["last_seen"] = now
            return None
        logout_user()
        session.clear()
        flash(message, "info")
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))

    @app.before_request
    def require_password_change() -> Any:
        """A password set by someone else, or too old, is changed before any other page."""
        user = session_user()
        if user is None or request.endpoint in PASSWORD_CHANGE_ENDPOINTS:
            return None
        reason = password_change_due(user)
        if reason is None:
            return None
        flash(reason, "warning")
        return redirect(url_for("auth.password"))

    @app.before_request
    def require_second_factor() -> Any:
        """An account that needs a second factor and has none sets one up before any other
        page (after a password change that is due: that hook runs first)."""
        user = session_user()
        if user is None or request.endpoint in ENROLMENT_ENDPOINTS or not must_enrol(user):
            return None
        flash(_("Set up your authenticator app before you go on."), "warning")
        return redirect(url_for("auth.two_factor"))

    app.before_request(enforce_access_policy)
    # Kept public pages are answered before every other hook (extensions' included).
    app.before_request_funcs.setdefault(None, []).insert(0, serve_kept_pages)

    @app.after_request
    def security_headers(response: Any) -> Any:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", content_security_policy())
        if app.config.get("HSTS_SECONDS"):
            response.headers.setdefault(
                "Strict-Transport-Security",
                f"max-age={app.config['HSTS_SECONDS']}; includeSubDomains",
            )
        policy = policy_for(request.endpoint) if request.endpoint else None
        if policy is not None and not policy.public:
            # A staff page holds personal data: no browser or proxy keeps a copy.
            response.headers["Cache-Control"] = "no-store"
        return response


def _register_error_pages(app: Flask) -> None:
    from flask_wtf.csrf import CSRFError

    from resettle.extensions import db

    def render_error(status: int, title: str, message: str) -> Any:
        on_public = request.path.startswith(
            "/public"
        )  # residents: the phone layout, no staff links
        return (
            render_template(
                "public/error.html" if on_public else "errors/error.html",
                status=status,
                title=title,
                message=message,
                request_id=g.get("request_id", ""),
            ),
            status,
        )

    @app.errorhandler(400)
    def bad_request(exc: Exception) -> Any:
        return render_error(400, _("Bad request"), _("The request could not be understood."))

    @app.errorhandler(CSRFError)
    def csrf_error(exc: Exception) -> Any:
        return render_error(
            400,
            _("The form has expired"),
            _(
                "The page was open too long or the form was sent twice. Go back, reload and try again."
            ),
        )

    @app.errorhandler(403)
    def forbidden(exc: Exception) -> Any:
        return render_error(403, _("Not allowed"), _("Your role may not open this page."))

    @app.errorhandler(404)
    def not_found(exc: Exception) -> Any:
        return render_error(404, _("Page not found"), _("There is no page at this address."))

    @app.errorhandler(405)
    def method_not_allowed(exc: Exception) -> Any:
        return render_error(405, _("Not allowed"), _("This page cannot be used that way."))

    @app.errorhandler(429)
    def too_many(exc: Exception) -> Any:
        if request.path.startswith("/public"):
            return render_error(
                429,
                _("Too many tries"),
                _(
                    "For your safety, the lookup is paused after several tries. Please try "
                    "again in 15 minutes, or ask the expropriation office."
                ),
            )
        return render_error(
            429, _("Too many attempts"), _("Too many attempts. Please wait a while and try again.")
        )

    @app.errorhandler(StaleDataError)
    @app.errorhandler(sa.exc.IntegrityError)
    @app.errorhandler(sa.exc.OperationalError)
    def write_collided(exc: Exception) -> Any:
        """A form sent twice at once (a double click) or by two people at the same moment: the
        database let one through and refused the other. That one is told so, with the page to
        check, instead of an error page; any other database error stays an error."""
        collision = write_collision(exc, db.metadata)
        if collision is None:
            raise exc  # an error page (500), or the traceback in tests
        db.session.rollback()
        log.info(
            "request %s: concurrent write refused (%s): %s", g.get("request_id"), collision, exc
        )
        if collision == "busy":
            flash(
                _(
                    "The system is busy saving other work; nothing was saved. Please try again in a moment."
                ),
                "error",
            )
        else:
            flash(
                _(
                    "This was saved by another request at the same moment (the form was sent "
                    "twice, or someone else saved first), so nothing was saved twice. Check the "
                    "page before trying again."
                ),
                "error",
            )
        return redirect(page_to_check())

    @app.errorhandler(500)
    def server_error(exc: Exception) -> Any:
        db.session.rollback()
        log.error("request %s failed", g.get("request_id"), exc_info=exc)
        return render_error(
            500,
            _("Something went wrong"),
            _(
                "The system could not complete the request. Give the request id to the administrator."
            ),
        )


def page_to_check() -> str:
    """Where a refused form send goes back to: the page the form was on (a path of this
    site), else the nearest page above the form's address (/households/5/payments →
    /households/5), else the start page."""
    from werkzeug.exceptions import HTTPException
    from werkzeug.routing import RequestRedirect

    from resettle.auth.views import safe_next

    referrer = request.referrer or ""
    parts = urlsplit(referrer)
    if parts.netloc == request.host and (back := safe_next(parts.path)):
        return back + (f"?{parts.query}" if parts.query else "")
    adapter = current_app.url_map.bind_to_environ(request.environ)
    path = request.path.rstrip("/")
    while path:
        try:
            adapter.match(path, method="GET")
            return request.script_root + path
        except RequestRedirect as redirected:
            return redirected.new_url
        except HTTPException:
            path = path.rsplit("/", 1)[0]
    return url_for("dashboard.index")


def _register_cli(app: Flask) -> None:
    from resettle.agreements.cli import agreements_cli
    from resettle.audit.cli import audit_cli
    from resettle.auth.cli import users_cli
    from resettle.backup.cli import backup_cli
    from resettle.demo.cli import demo_cli
    from resettle.disclosure.cli import disclosures_cli
    from resettle.funds.cli import funds_cli
    from resettle.households.cli import households_cli
    from resettle.jobs.cli import jobs_cli
    from resettle.notices.cli import notices_cli
    from resettle.plans.cli import plan_cli
    from resettle.projects.cli import projects_cli
    from resettle.supervision.cli import supervision_cli

    app.cli.add_command(agreements_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(backup_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(disclosures_cli)
    app.cli.add_command(funds_cli)
    app.cli.add_command(plan_cli)
    app.cli.add_command(projects_cli)
    app.cli.add_command(households_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(notices_cli)
    app.cli.add_command(supervision_cli)


def _register_template_helpers(app: Flask) -> None:
    from resettle.i18n import register_template_helpers

    register_template_helpers(app)
    app.jinja_env.globals["csp_nonce"] = csp_nonce


def csp_nonce() -> str:
    """This request's Content-Security-Policy nonce: a script or style element written into a
    page runs only with it."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def content_security_policy() -> str:
    """Scripts and style sheets come from this site's files or carry this request's nonce;
    nothing is fetched from elsewhere (QR codes are inline images). Style attributes stay
    allowed (the charts' bar widths); they cannot run code."""
    nonce = csp_nonce()
    return (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        f"style-src 'self' 'nonce-{nonce}'; "
        "style-src-attr 'unsafe-inline'; "
        "img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
