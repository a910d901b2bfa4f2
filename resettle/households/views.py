"""Household screens: list, register, page, edit, record steps, undo, payments."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from resettle import clock
from resettle.audit.access import record_pii_view
from resettle.audit.services import history
from resettle.auth.models import Role, User
from resettle.auth.policy import logged_in, role_required
from resettle.db import database_int, utcnow
from resettle.errors import RuleViolation
from resettle.extensions import db
from resettle.forms import show_violation
from resettle.funds.forms import ReverseForm
from resettle.funds.services import (
    add_adjustment,
    current_rule,
    household_money,
    remove_adjustment,
)
from resettle.households import bp
from resettle.households.forms import (
    AdjustmentForm,
    EditHouseholdForm,
    HouseholdForm,
    NewHouseholdForm,
    PaymentForm,
    RemoveAdjustmentForm,
    StepForm,
    UndoForm,
)
from resettle.households.models import CompensationMode, Household, HouseholdAdjustment, Stage
from resettle.households.queries import PAGE_SIZE, HouseholdFilter, filter_from, household_page
from resettle.households.services import (
    EDITABLE_FIELDS,
    ConcurrentEditError,
    HouseholdData,
    MemberData,
    concurrent_edit_error,
    household_summary,
    next_stage,
    record_payment,
    record_step,
    register_household,
    undo_last_step,
    update_household,
)
from resettle.households.stages import STAGE_ORDER
from resettle.i18n import STAGE_LABELS
from resettle.notices.services import notices_for_household
from resettle.plans.deadlines import household_deadlines, late_stages
from resettle.plans.services import app_calendar
from resettle.projects.services import all_projects
from resettle.translate import gettext as _

EDITORS = (Role.ADMIN, Role.CASEWORKER)


def _caseworker_choices() -> list[tuple[str, str]]:
    users = db.session.scalars(
        sa.select(User)
        .where(User.role == Role.CASEWORKER, User.active.is_(True))
        .order_by(User.full_name)
    )
    return [("", _("Nobody yet"))] + [(str(u.id), u.full_name) for u in users]


def filter_from_args() -> HouseholdFilter:
    return filter_from(request.args)


@bp.route("/")
@logged_in
def index():
    filters = filter_from_args()
    page = max(request.args.get("page", 1, type=database_int) or 1, 1)
    households, total = household_page(db.session, filters, page, clock.today())
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "households/index.html",
        households=households,
        total=total,
        page=page,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        filters=filters,
        args=args,
        projects=all_projects(),
        caseworkers=_caseworker_choices()[1:],
        stages=STAGE_ORDER,
    )


def _fixture_counts(form: HouseholdForm) -> dict[str, Any] | None:
    """The fixture counts the form sent, by item; None when it sent none (nothing changes)."""
    entries = getattr(form, "fixture_counts", None)
    if not entries:
        return None
    return {entry.form.name.data: entry.form.quantity.data for entry in entries}


def _data_from_form(form: HouseholdForm) -> HouseholdData:
    return HouseholdData(
        head_name=form.head_name.data or "",
        head_id_number=form.head_id_number.data or "",
        phone=form.phone.data,
        house_address=form.house_address.data or "",
        legal_area=form.legal_area.data,
        unregistered_area=form.unregistered_area.data or 0,
        house_use=form.house_use.data,
        appraisal_unit_price=form.appraisal_unit_price.data,
        appraisal_value=form.appraisal_value.data,
        decoration_value=form.decoration_value.data,
        business_area=form.business_area.data,
        lawful_unregistered_area=form.lawful_unregistered_area.data or 0,
        hardship=form.hardship.data or None,
        fixtures=_fixture_counts(form),
        compensation_mode=CompensationMode(form.compensation_mode.data)
        if form.compensation_mode.data
        else None,
        entitled_area=form.entitled_area.data,
        selection_order=form.selection_order.data,
        caseworker_id=int(form.caseworker_id.data) if form.caseworker_id.data else None,
        note=form.note.data,
        warnings_confirmed=bool(form.warnings_confirmed.data),
        members=[
            MemberData(m.form.name.data, m.form.relation.data, m.form.id_number.data)
            for m in form.members
            if (m.form.name.data or "").strip() or (m.form.id_number.data or "").strip()
        ],
    )


@bp.route("/new", methods=["GET", "POST"])
@role_required(*EDITORS)
def new():
    form = NewHouseholdForm()
    form.project_id.choices = [(p.id, f"{p.code} {p.name}") for p in all_projects()]
    form.caseworker_id.choices = _caseworker_choices()
    if request.method == "GET":
        form.project_id.data = request.args.get("project", type=database_int)
        form.survey_date.data = clock.today()
        if current_user.role == Role.CASEWORKER:
            form.caseworker_id.data = str(current_user.id)
    if form.validate_on_submit():
        project = next((p for p in all_projects() if p.id == form.project_id.data), None)
        try:
            household = register_household(
                db.session,
                project,
                _data_from_form(form),
                survey_date=form.survey_date.data,
                operator=current_user,
                case_number=form.case_number.data,
            )
        except RuleViolation as exc:
            db.session.rollback()
            show_violation(form, exc, "head_name")
        else:
            db.session.commit()
            flash(_("Household %(case)s registered.", case=household.case_number), "success")
            return redirect(url_for("households.detail", household_id=household.id))
    return render_template("households/form.html", form=form, household=None)


def _load(household_id: int) -> Household:
    return db.session.get(Household, household_id) or abort(404)


def _detail(household: Household, **forms: Any) -> str:
    step_form = forms.get("step_form") or StepForm()
    upcoming = next_stage(household)
    if upcoming is not None and not step_form.stage.data:
        step_form.stage.data = upcoming.value
        step_form.actual_date.data = clock.today()
    adjustment_form = forms.get("adjustment_form") or AdjustmentForm()
    payment_form = forms.get("payment_form") or PaymentForm()
    if not payment_form.paid_on.data:
        payment_form.paid_on.data = clock.today()
    steps = {s.stage: s for s in household.steps}
    deadlines = household_deadlines(db.session, household)
    return render_template(
        "households/detail.html",
        household=household,
        deadlines=deadlines,
        late=late_stages(
            household.compensation_mode,
            household.stage,
            deadlines,
            app_calendar(db.session),
            clock.today(),
        ),
        money=household_money(db.session, household),
        reverse_form=ReverseForm(),
        can_reverse=current_user.role in (Role.ADMIN, Role.SUPERVISOR),
        summary=household_summary(household),
        steps=steps,
        step_form=step_form,
        undo_form=_undo_form(household, forms.get("undo_form")),
        payment_form=payment_form,
        adjustment_form=adjustment_form,
        remove_adjustment_form=RemoveAdjustmentForm(),
        events=history(db.session, "Household", household.id),
        household_notices=notices_for_household(db.session, household.id),
        can_edit=current_user.role in EDITORS,
        can_undo=current_user.role in (Role.SUPERVISOR, Role.ADMIN),
    )


def _undo_form(household: Household, form: UndoForm | None) -> UndoForm:
    """The undo form, naming the step it undoes (the latest one on the page)."""
    form = form or UndoForm()
    if not form.stage.data:
        form.stage.data = household.stage.value
    return form


@bp.route("/<int:household_id>")
@logged_in
def detail(household_id: int):
    household = _load(household_id)
    page = _detail(household)
    _audit_pii_view(household)
    return page


def _audit_pii_view(household: Household) -> None:
    """An editor was shown the household's full ID numbers and phone: audited once a session."""
    if record_pii_view(db.session, current_user, household.id):
        db.session.commit()


def _price_list(household: Household) -> dict[str, Any]:
    """The price-list items the household's fixtures are counted in, by name: those of the
    version it signed under (else the one in force), then any it was counted in before."""
    rule = household.rule or current_rule(db.session, household.project_id, clock.today())
    items: dict[str, Any] = {i.name: i for i in rule.price_items} if rule is not None else {}
    for fixture in household.fixtures:
        items.setdefault(fixture.name, None)
    return items


def _edit_form(household: Household, formdata: Any = None) -> EditHouseholdForm:
    form = EditHouseholdForm(formdata=formdata, obj=household)
    form.caseworker_id.choices = _caseworker_choices()
    if formdata is None:
        counts = {f.name: f.quantity for f in household.fixtures}
        for name in _price_list(household):
            form.fixture_counts.append_entry({"name": name, "quantity": counts.get(name)})
        for _blank in range(2):
            form.members.append_entry()
        form.caseworker_id.data = str(household.caseworker_id or "")
        form.compensation_mode.data = (
            household.compensation_mode.value if household.compensation_mode else ""
        )
        form.version.data = str(household.version_id)
        form.loaded_at.data = utcnow().isoformat()
    return form


@bp.route("/<int:household_id>/edit", methods=["GET", "POST"])
@role_required(*EDITORS)
def edit(household_id: int):
    household = _load(household_id)
    if request.method == "GET":
        page = render_template(
            "households/form.html",
            form=_edit_form(household),
            household=household,
            price_list=_price_list(household),
        )
        _audit_pii_view(household)
        return page
    form = _edit_form(household, request.form)
    if not form.validate_on_submit():
        return render_template(
            "households/form.html",
            form=form,
            household=household,
            price_list=_price_list(household),
        )
    try:
        expected = int(form.version.data or 0)
        loaded_at = datetime.fromisoformat(form.loaded_at.data or "")
    except ValueError:
        expected, loaded_at = -1, datetime.now(UTC)
    mine = _data_from_form(form)
    try:
        update_household(
            db.session, household, mine, expected_version=expected, loaded_at=loaded_at
        )
        db.session.commit()
    except ConcurrentEditError as exc:
        db.session.rollback()
        return _conflict_page(household, mine, exc)
    except StaleDataError:
        db.session.rollback()
        household = _load(household_id)
        return _conflict_page(
            household, mine, concurrent_edit_error(db.session, household, loaded_at)
        )
    except RuleViolation as exc:
        db.session.rollback()
        household = _load(household_id)
        show_violation(form, exc, "head_name")
        return render_template(
            "households/form.html",
            form=form,
            household=household,
            price_list=_price_list(household),
        )
    flash(_("Saved."), "success")
    return redirect(url_for("households.detail", household_id=household.id))


def _conflict_page(household: Household, mine: HouseholdData, exc: ConcurrentEditError) -> Any:
    db.session.refresh(household)
    form = _edit_form(household)
    differences = []
    for name in EDITABLE_FIELDS:
        theirs, yours = getattr(household, name), getattr(mine, name)
        if (theirs or None) != (yours or None):
            label = getattr(form, name).label.text
            differences.append((label, theirs, yours))
    return (
        render_template(
            "households/form.html",
            form=form,
            household=household,
            conflict=exc,
            differences=differences,
            price_list=_price_list(household),
        ),
        409,
    )


@bp.route("/<int:household_id>/steps", methods=["POST"])
@role_required(*EDITORS)
def record(household_id: int):
    household = _load(household_id)
    form = StepForm()
    if form.validate_on_submit():
        try:
            stage = Stage(form.stage.data)
        except ValueError:
            abort(400)
        try:
            record_step(
                db.session,
                household,
                stage,
                form.actual_date.data,
                operator=current_user,
                note=form.note.data,
            )
        except RuleViolation as exc:
            db.session.rollback()
            household = _load(household_id)
            form.actual_date.errors = [exc.message]
            return _detail(household, step_form=form)
        db.session.commit()
        flash(_("Recorded."), "success")
        return redirect(url_for("households.detail", household_id=household.id))
    return _detail(household, step_form=form)


@bp.route("/<int:household_id>/undo", methods=["POST"])
@role_required(Role.SUPERVISOR, Role.ADMIN)
def undo(household_id: int):
    household = _load(household_id)
    form = UndoForm()
    if form.validate_on_submit():
        try:
            undone = undo_last_step(
                db.session,
                household,
                reason=form.reason.data,
                user=current_user,
                shown=form.stage.data or None,
            )
        except RuleViolation as exc:
            db.session.rollback()
            household = _load(household_id)
            form.reason.errors = [exc.message]
            return _detail(household, undo_form=form)
        db.session.commit()
        flash(_("%(stage)s was undone.", stage=STAGE_LABELS[undone]), "success")
        return redirect(url_for("households.detail", household_id=household.id))
    return _detail(household, undo_form=form)


@bp.route("/<int:household_id>/payments", methods=["POST"])
@role_required(*EDITORS)
def payment(household_id: int):
    household = _load(household_id)
    form = PaymentForm()
    if form.validate_on_submit():
        try:
            record_payment(
                db.session,
                household,
                kind=form.kind.data,
                amount=form.amount.data,
                paid_on=form.paid_on.data,
                voucher_number=form.voucher_number.data,
                payee=form.payee.data,
                operator=current_user,
            )
        except RuleViolation as exc:
            db.session.rollback()
            household = _load(household_id)
            show_violation(form, exc, "amount")
            return _detail(household, payment_form=form)
        db.session.commit()
        flash(_("Payment recorded."), "success")
        return redirect(url_for("households.detail", household_id=household.id) + "#payments")
    return _detail(household, payment_form=form)


@bp.route("/<int:household_id>/adjustments", methods=["POST"])
@role_required(*EDITORS)
def add_line(household_id: int):
    """A free line (其他补偿/扣减) the office decided for this household, with its reason."""
    household = _load(household_id)
    form = AdjustmentForm()
    if form.validate_on_submit():
        try:
            add_adjustment(
                db.session,
                household,
                label=form.label.data,
                amount=form.amount.data,
                reason=form.reason.data,
                user=current_user,
            )
        except RuleViolation as exc:
            db.session.rollback()
            household = _load(household_id)
            show_violation(form, exc, "reason")
            return _detail(household, adjustment_form=form)
        db.session.commit()
        flash(_("Line added."), "success")
        return redirect(url_for("households.detail", household_id=household.id) + "#compensation")
    return _detail(household, adjustment_form=form)


@bp.route("/<int:household_id>/adjustments/<int:adjustment_id>/remove", methods=["POST"])
@role_required(*EDITORS)
def remove_line(household_id: int, adjustment_id: int):
    household = _load(household_id)
    adjustment = db.session.get(HouseholdAdjustment, adjustment_id)
    if adjustment is None or adjustment.household_id != household.id:
        abort(404)
    form = RemoveAdjustmentForm()
    target = url_for("households.detail", household_id=household.id) + "#compensation"
    if not form.validate_on_submit():
        abort(400)
    try:
        remove_adjustment(db.session, adjustment)
    except RuleViolation as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(target)
    db.session.commit()
    flash(_("Line removed."), "success")
    return redirect(target)
