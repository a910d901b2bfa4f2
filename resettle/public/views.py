"""Public pages: no login. Each shows allowlisted data only (resettle/public/services.py and
resettle/disclosure/services.py) and is marked noindex."""

from __future__ import annotations

import time
from functools import wraps
from typing import Any

import sqlalchemy as sa
from flask import Response, abort, current_app, g, make_response, render_template, request

from resettle import clock
from resettle.auth.policy import public
from resettle.disclosure.models import Disclosure, DisclosureStatus
from resettle.disclosure.services import (
    COLUMNS,
    KIND_LABELS,
    is_public,
    public_disclosures,
    stored_pdf,
)
from resettle.extensions import csrf, db, limiter
from resettle.i18n import STAGE_LABELS, select_locale
from resettle.notices.views import pdf_response
from resettle.projects.models import ExpropriationProject
from resettle.public import bp
from resettle.public.forms import StatusForm
from resettle.public.services import (
    lookup_case,
    lookup_key,
    project_figures,
    public_gantt,
    verified_notice,
)
from resettle.translate import gettext as _


@bp.after_app_request
def no_index(response: Any) -> Any:
    """Search engines must not index the public pages (they name people, masked or not)."""
    if request.path.startswith("/public"):
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _ip_limit() -> str:
    return current_app.config["PUBLIC_LOOKUP_LIMIT_IP"]


def _case_limit() -> str:
    return current_app.config["PUBLIC_LOOKUP_LIMIT_CASE"]


def _case_key() -> str:
    return "case:" + lookup_key(request.form.get("case_number", ""))


def _lookup_failed(response: Any) -> bool:
    return bool(g.get("lookup_failed"))


_PAGES: dict[tuple[str, str, str, str], tuple[float, bytes]] = {}
_MAX_PAGES = 2000


def _page_key() -> tuple[str, str, str, str]:
    environ = request.environ
    return (
        request.endpoint or "",
        environ.get("PATH_INFO", ""),
        environ.get("QUERY_STRING", ""),
        select_locale(),
    )


def _kept_page() -> Response | None:
    """The page kept in this worker's memory for this address, while it is fresh."""
    hit = _PAGES.get(_page_key())
    if hit is not None and hit[0] > time.monotonic():
        return Response(hit[1], mimetype="text/html")
    return None


def cached_page(view: Any) -> Any:
    """Serve a public page from this worker's memory for PUBLIC_PAGE_CACHE_SECONDS: under a rush
    the project pages are rendered a few times a minute, not for every visitor; figures are at
    most that many seconds old (0 turns it off). The view keeps what it renders;
    `serve_kept_pages` answers from that memory before the other request hooks run."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ttl = current_app.config["PUBLIC_PAGE_CACHE_SECONDS"]
        if ttl <= 0 or request.method != "GET":
            return view(*args, **kwargs)
        # a fresh kept page was answered already by `serve_kept_pages`: render and keep
        response = make_response(view(*args, **kwargs))
        if response.status_code == 200:
            if len(_PAGES) >= _MAX_PAGES:
                _PAGES.clear()
            _PAGES[_page_key()] = (time.monotonic() + ttl, response.get_data())
        return response

    wrapper.page_cache = True  # type: ignore[attr-defined]
    return wrapper


def serve_kept_pages() -> Response | None:
    """The first before_request hook: a kept public page (anonymous, no limit, no form) is
    answered at once, without the login, limiter and CSRF hooks that a fresh page needs; the
    after_request hooks still add the security and noindex headers."""
    if request.method != "GET" or current_app.config["PUBLIC_PAGE_CACHE_SECONDS"] <= 0:
        return None
    view = current_app.view_functions.get(request.endpoint or "")
    if not getattr(view, "page_cache", False):
        return None
    return _kept_page()


@bp.route("/")
@public
@cached_page
def index():
    projects = list(
        db.session.scalars(
            sa.select(ExpropriationProject)
            .where(ExpropriationProject.published.is_(True))
            .order_by(ExpropriationProject.code)
        )
    )
    figures = project_figures(db.session, [p.id for p in projects])
    return render_template("public/index.html", projects=projects, figures=figures)


@bp.route("/projects/<code>")
@public
@cached_page
def project(code: str):
    project = db.session.scalar(
        sa.select(ExpropriationProject).where(ExpropriationProject.code == code)
    )
    if project is None or not project.published:
        abort(404)
    today = clock.today()
    return render_template(
        "public/project.html",
        project=project,
        figures=project_figures(db.session, [project.id])[project.id],
        gantt=public_gantt(db.session, project, today),
        disclosures=public_disclosures(db.session, project.id, today),
        kind_labels=KIND_LABELS,
        stage_labels=STAGE_LABELS,
        today=today,
    )


def _public_disclosure(disclosure_id: int) -> Disclosure:
    disclosure = db.session.get(Disclosure, disclosure_id)
    if disclosure is None or not is_public(disclosure, clock.today()):
        abort(404)
    return disclosure


@bp.route("/disclosures/<int:disclosure_id>")
@public
def disclosure(disclosure_id: int):
    disclosure = _public_disclosure(disclosure_id)
    return render_template(
        "public/disclosure.html",
        disclosure=disclosure,
        columns=COLUMNS[disclosure.kind],
        kind_label=KIND_LABELS[disclosure.kind],
        withdrawn=disclosure.status == DisclosureStatus.WITHDRAWN,
    )


#: How soon a visitor may ask again for a disclosure PDF that is being prepared.
PDF_RETRY_SECONDS = 60


@bp.route("/disclosures/<int:disclosure_id>.pdf")
@public
def disclosure_pdf(disclosure_id: int):
    disclosure = _public_disclosure(disclosure_id)
    if disclosure.status == DisclosureStatus.WITHDRAWN:
        abort(404)
    stored = stored_pdf(db.session, disclosure.id)
    if stored is None:
        # Rendered once by a job started on publishing, never here: a visitor cannot make the
        # server render. Until it is ready, a short page saying so.
        page = render_template("public/pdf_pending.html", disclosure=disclosure)
        return Response(
            page,
            status=503,
            mimetype="text/html",
            headers={"Retry-After": str(PDF_RETRY_SECONDS)},
        )
    response = pdf_response(stored.pdf, f"disclosure-{disclosure.id}.pdf")
    response.set_etag(stored.sha256)
    return response


@bp.route("/status", methods=["GET", "POST"])
@public
@csrf.exempt  # see StatusForm
@cached_page  # the empty form (GET) only
@limiter.limit(_ip_limit, methods=["POST"])
@limiter.limit(_case_limit, methods=["POST"], key_func=_case_key, deduct_when=_lookup_failed)
def status():
    form = StatusForm()
    if request.method == "POST":
        if form.validate_on_submit():
            today = clock.today()
            result = lookup_case(db.session, form.case_number.data, form.id_suffix.data, today)
            db.session.commit()  # the audit row of the lookup
            if result is not None:
                return render_template("public/status_result.html", case=result, today=today)
        g.lookup_failed = True
        form.id_suffix.data = ""  # never echoed back: the screen may be seen by others
        if not form.errors:
            form.form_errors.append(neutral_message())
    return render_template("public/status.html", form=form)


def neutral_message() -> str:
    """One answer whatever was wrong: a guess learns nothing about which part failed."""
    return _(
        "No case matches this case number and these six characters. Check both and try "
        "again; the expropriation office can help."
    )


@bp.route("/verify")
@public
@limiter.limit(lambda: current_app.config["PUBLIC_VERIFY_LIMIT_IP"])
def verify():
    number = (request.args.get("number") or "").strip()[:60]
    code = (request.args.get("code") or "").strip()[:20]
    asked = bool(number or code)
    result = verified_notice(db.session, number, code) if number and code else None
    return render_template(
        "public/verify.html", number=number, code=code, asked=asked, result=result
    )
