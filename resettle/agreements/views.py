"""Agreement screens: preview, sign and issue, supplement, reprint (from the household page)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from resettle import clock
from resettle.agreements import bp
from resettle.agreements.forms import IssueAgreementForm, SupplementForm
from resettle.agreements.kinds import AGREEMENT_KIND_LABELS
from resettle.agreements.models import Agreement
from resettle.agreements.services import (
    AgreementInput,
    agreement_drift,
    agreement_pdf,
    agreements_for_household,
    draft_agreement_pdf,
    issue_agreement,
    issue_supplement,
    parse_instalments,
)
from resettle.audit.access import audited_download
from resettle.auth.models import Role
from resettle.auth.policy import logged_in, role_required
from resettle.documents.archive import lacking_glyphs
from resettle.documents.numbers import begin_numbering
from resettle.errors import RuleViolation
from resettle.extensions import db
from resettle.funds.services import due_before_moving
from resettle.households.models import Household
from resettle.notices.views import pdf_response
from resettle.translate import gettext as _

ISSUERS = (Role.ADMIN, Role.CASEWORKER)


@bp.app_context_processor
def agreement_helpers() -> dict[str, Any]:
    """The household page's agreements section: its agreements, their labels and forms."""
    return {
        "AGREEMENT_KIND_LABELS": AGREEMENT_KIND_LABELS,
        "household_agreements": lambda household_id: agreements_for_household(
            db.session, household_id
        ),
        "agreement_drift": lambda household: agreement_drift(db.session, household),
        "before_moving_now": lambda household: due_before_moving(
            db.session, household, by=clock.today()
        ),
        "agreement_form": IssueAgreementForm,
        "supplement_form": SupplementForm,
        "can_issue_agreements": lambda: (
            current_user.is_authenticated and current_user.role in ISSUERS
        ),
    }


def _warn_glyphs(lacking: str) -> None:
    if lacking:
        flash(
            _(
                "The PDF font has no %(chars)s: they print as empty boxes. Check the name and "
                "address on the printed agreement and write them in by hand if needed.",
                chars=" ".join(lacking),
            ),
            "warning",
        )


def _household(household_id: int) -> Household:
    return db.session.get(Household, household_id) or abort(404)


def _back(household_id: int):
    return redirect(url_for("households.detail", household_id=household_id) + "#agreements")


def _refused(household_id: int, message: str):
    db.session.rollback()
    flash(message, "error")
    return _back(household_id)


@bp.route("/household/<int:household_id>/draft.pdf")
@role_required(*ISSUERS)
@audited_download("Household", "household_id")  # the draft prints the full ID number
def draft(household_id: int):
    household = _household(household_id)
    try:
        data = draft_agreement_pdf(db.session, household)
    except RuleViolation as exc:
        return _refused(household_id, exc.message)
    db.session.rollback()
    return pdf_response(data, f"agreement-draft-{household.case_number}.pdf")


@bp.route("/household/<int:household_id>/issue", methods=["POST"])
@role_required(*ISSUERS)
def issue(household_id: int):
    form = IssueAgreementForm()
    if not form.validate_on_submit():
        return _refused(household_id, "；".join(e for errs in form.errors.values() for e in errs))
    db.session.rollback()
    begin_numbering(db.session)  # a double click or two caseworkers at once sign once
    household = _household(household_id)
    try:
        agreement = issue_agreement(
            db.session,
            household,
            AgreementInput(
                instalments=parse_instalments(form.instalments.data),
                moving_deadline=form.moving_deadline.data,
                transit_flat=form.transit_flat.data or "",
            ),
            user=current_user,
        )
        number, lacking = agreement.number, lacking_glyphs(agreement.figures)
        db.session.commit()
    except RuleViolation as exc:
        return _refused(household_id, exc.message)
    except IntegrityError:
        return _refused(
            household_id,
            _("The household's agreement was issued a moment ago (the form was sent twice)."),
        )
    flash(
        _("The household signed; agreement %(number)s is issued and archived.", number=number),
        "success",
    )
    _warn_glyphs(lacking)
    return _back(household_id)


@bp.route("/household/<int:household_id>/supplement", methods=["POST"])
@role_required(*ISSUERS)
def supplement(household_id: int):
    form = SupplementForm()
    if not form.validate_on_submit():
        return _refused(household_id, "；".join(e for errs in form.errors.values() for e in errs))
    db.session.rollback()
    begin_numbering(db.session)
    household = _household(household_id)
    try:
        agreement = issue_supplement(
            db.session,
            household,
            AgreementInput(
                reason=form.reason.data or "", moving_deadline=form.moving_deadline.data
            ),
            user=current_user,
        )
        number = agreement.number
        db.session.commit()
    except RuleViolation as exc:
        return _refused(household_id, exc.message)
    flash(_("Supplementary agreement %(number)s is issued and archived.", number=number), "success")
    return _back(household_id)


@bp.route("/<int:agreement_id>/pdf")
@logged_in
@audited_download("Agreement", "agreement_id")
def pdf(agreement_id: int):
    agreement = db.session.get(Agreement, agreement_id) or abort(404)
    return pdf_response(agreement_pdf(agreement), f"agreement-{agreement.id}.pdf")
