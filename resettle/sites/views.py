"""Estate screens: the estates, their buildings and flats, the flat import, and flat selection."""

from __future__ import annotations

from io import BytesIO

import sqlalchemy as sa
from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user

from resettle import clock
from resettle.auth.models import Role
from resettle.auth.policy import logged_in, role_required
from resettle.db import parses_before_writing
from resettle.errors import RuleViolation
from resettle.extensions import db
from resettle.forms import show_violation
from resettle.households.models import Household
from resettle.sites import bp
from resettle.sites.excel import COLUMNS, read_units_workbook, units_template
from resettle.sites.forms import (
    AllocationForm,
    BuildingForm,
    ConfirmForm,
    SiteForm,
    UnitFilterForm,
    UnitForm,
    UnitImportForm,
)
from resettle.sites.models import Building, ResettlementSite
from resettle.sites.services import (
    UNIT_STATUS_LABELS,
    BuildingData,
    SiteData,
    UnitData,
    UnitFilter,
    add_building,
    add_unit,
    allocate_unit,
    available_units,
    begin_allocation,
    check_can_select,
    create_site,
    import_units,
    mark_building_complete,
    parse_areas,
    plan_unit_import,
    selection_queue,
    site_data,
    site_grid,
    site_overview,
    update_site,
)
from resettle.spreadsheets.stash import discard_upload, pending_upload, stash_upload
from resettle.spreadsheets.writing import XLSX_MIMETYPE
from resettle.translate import gettext as _

STAFF = (Role.ADMIN, Role.CASEWORKER)
QUEUE_SHOWN = 10


@bp.context_processor
def unit_labels() -> dict[str, object]:
    return {"UNIT_STATUS_LABELS": UNIT_STATUS_LABELS}


def _site_or_404(site_id: int) -> ResettlementSite:
    return db.session.get(ResettlementSite, site_id) or abort(404)


def _building_or_404(building_id: int) -> Building:
    return db.session.get(Building, building_id) or abort(404)


# --- estates ---------------------------------------------------------------------------------


@bp.route("/")
@logged_in
def index():
    return render_template("sites/index.html", rows=site_overview(db.session))


def _site_form_data(form: SiteForm) -> SiteData:
    return SiteData(form.name.data, form.location.data, form.promised_handover_date.data)


@bp.route("/new", methods=["GET", "POST"])
@role_required(*STAFF)
def new():
    form = SiteForm()
    if form.validate_on_submit():
        try:
            site = create_site(db.session, _site_form_data(form))
        except RuleViolation as exc:
            db.session.rollback()
            show_violation(form, exc, "name")
        else:
            db.session.commit()
            flash(_("Estate %(name)s created.", name=site.name), "success")
            return redirect(url_for("sites.detail", site_id=site.id))
    return render_template("sites/form.html", form=form, site=None)


@bp.route("/<int:site_id>/edit", methods=["GET", "POST"])
@role_required(*STAFF)
def edit(site_id: int):
    site = _site_or_404(site_id)
    form = SiteForm(obj=site_data(site))
    if form.validate_on_submit():
        try:
            update_site(db.session, site, _site_form_data(form))
        except RuleViolation as exc:
            db.session.rollback()
            show_violation(form, exc, "name")
        else:
            db.session.commit()
            flash(_("Estate %(name)s saved.", name=site.name), "success")
            return redirect(url_for("sites.detail", site_id=site.id))
    return render_template("sites/form.html", form=form, site=site)


@bp.route("/<int:site_id>")
@logged_in
def detail(site_id: int):
    site = _site_or_404(site_id)
    return render_template(
        "sites/detail.html", site=site, grids=site_grid(db.session, site), form=ConfirmForm()
    )


# --- buildings and flats ---------------------------------------------------------------------


@bp.route("/<int:site_id>/buildings/new", methods=["GET", "POST"])
@role_required(*STAFF)
def new_building(site_id: int):
    site = _site_or_404(site_id)
    form = BuildingForm()
    if form.validate_on_submit():
        try:
            building = add_building(
                db.session,
                site,
                BuildingData(
                    name=form.name.data,
                    floors=form.floors.data,
                    entrances=form.entrances.data,
                    flats_per_floor=form.flats_per_floor.data,
                    flat_areas=parse_areas(form.flat_areas.data),
                ),
            )
        except RuleViolation as exc:
            db.session.rollback()
            show_violation(form, exc, "name")
        else:
            db.session.commit()
            flash(
                _(
                    "%(building)s added with %(n)d flats.",
                    building=building.name,
                    n=len(building.units),
                ),
                "success",
            )
            return redirect(url_for("sites.detail", site_id=site.id))
    return render_template("sites/building_form.html", form=form, site=site)


@bp.route("/buildings/<int:building_id>/units/new", methods=["GET", "POST"])
@role_required(*STAFF)
def new_unit(building_id: int):
    building = _building_or_404(building_id)
    form = UnitForm()
    if form.validate_on_submit():
        try:
            unit = add_unit(
                db.session,
                building,
                UnitData(form.entrance.data, form.floor.data, form.number.data, form.area.data),
            )
        except RuleViolation as exc:
            db.session.rollback()
            show_violation(form, exc, "number")
        else:
            db.session.commit()
            flash(_("%(flat)s added.", flat=unit.label), "success")
            return redirect(url_for("sites.detail", site_id=building.site_id))
    return render_template("sites/unit_form.html", form=form, building=building)


@bp.route("/buildings/<int:building_id>/complete", methods=["POST"])
@role_required(*STAFF)
def complete_building(building_id: int):
    building = _building_or_404(building_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        mark_building_complete(db.session, building)
    except RuleViolation as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(_("%(building)s is marked complete.", building=building.name), "success")
    return redirect(url_for("sites.detail", site_id=building.site_id))


# --- the flat import -------------------------------------------------------------------------


UPLOAD_KIND = "unit_list"


@bp.route("/import-template.xlsx")
@role_required(*STAFF)
def import_template():
    return send_file(
        BytesIO(units_template()),
        mimetype=XLSX_MIMETYPE,
        as_attachment=True,
        download_name="安置房源导入模板.xlsx",
    )


@bp.route("/<int:site_id>/import", methods=["GET", "POST"])
@parses_before_writing
@role_required(*STAFF)
def import_units_upload(site_id: int):
    """Upload the flats file and see what it would change (nothing is saved yet)."""
    site = _site_or_404(site_id)
    form = UnitImportForm()
    sheet = plan = None
    token = None
    if form.validate_on_submit():
        data = form.file.data.read()
        try:
            sheet = read_units_workbook(data)
        except RuleViolation as exc:
            show_violation(form, exc, "file")
        else:
            plan = plan_unit_import(db.session, site, sheet)
            if not plan.errors and plan.changes:
                upload = stash_upload(
                    db.session, UPLOAD_KIND, site.id, data, form.file.data.filename, current_user
                )
                db.session.commit()
                token = upload.token
    return render_template(
        "sites/import.html",
        site=site,
        form=form,
        sheet=sheet,
        plan=plan,
        errors=plan.errors if plan else [],
        confirm=ConfirmForm(token=token) if token else None,
        columns=COLUMNS,
    )


@bp.route("/<int:site_id>/import/confirm", methods=["POST"])
@role_required(*STAFF)
def confirm_import(site_id: int):
    form = ConfirmForm()
    upload = None
    if form.validate_on_submit():
        upload = pending_upload(
            db.session, UPLOAD_KIND, form.token.data, current_user, site_id, claim=True
        )
    site = _site_or_404(site_id)
    if upload is None:
        flash(_("This import has expired or was done already. Upload the file again."), "error")
        return redirect(url_for("sites.import_units_upload", site_id=site.id))
    try:
        plan = import_units(db.session, site, read_units_workbook(upload.content))
    except RuleViolation as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("sites.import_units_upload", site_id=site.id))
    discard_upload(db.session, upload)
    db.session.commit()
    flash(
        _(
            "Import done: %(new)d flats added, %(updated)d corrected, %(same)d unchanged.",
            new=len(plan.to_create),
            updated=len(plan.to_update),
            same=plan.unchanged,
        ),
        "success",
    )
    return redirect(url_for("sites.detail", site_id=site.id))


# --- selection (选房) ------------------------------------------------------------------------


def household_url(household_id: int) -> str:
    """The household page, where the selection shows as a recorded step."""
    return url_for("households.detail", household_id=household_id)


def _unit_filter(filters: UnitFilterForm) -> UnitFilter:
    filters.validate()
    sites = db.session.scalars(sa.select(ResettlementSite).order_by(ResettlementSite.name)).all()
    filters.site.choices = [(0, _("All"))] + [(s.id, s.name) for s in sites]
    query = (
        sa.select(Building.id, Building.name, ResettlementSite.name)
        .join(Building.site)
        .order_by(ResettlementSite.name, Building.name)
    )
    if filters.site.data:
        query = query.where(Building.site_id == filters.site.data)
    buildings = db.session.execute(query).all()
    filters.building.choices = [(0, _("All"))] + [
        (b_id, f"{s_name} {b_name}" if not filters.site.data else b_name)
        for b_id, b_name, s_name in buildings
    ]
    building_ids = {b_id for b_id, _name, _site in buildings}
    return UnitFilter(
        site_id=filters.site.data or None,
        building_id=filters.building.data if filters.building.data in building_ids else None,
        min_area=filters.min_area.data if not filters.min_area.errors else None,
        max_area=filters.max_area.data if not filters.max_area.errors else None,
    )


@bp.route("/allocate/<int:household_id>", methods=["GET", "POST"])
@role_required(*STAFF)
def allocate(household_id: int):
    household = db.session.get(Household, household_id) or abort(404)
    form = AllocationForm()
    if not form.is_submitted():
        form.selection_date.data = clock.today()
    problem = None
    if form.validate_on_submit():
        # The login check has read in this transaction; the allocation opens its own, which on
        # SQLite holds the write lock from its start (see begin_allocation).
        db.session.rollback()
        begin_allocation(db.session)
        household = db.session.get(Household, household_id) or abort(404)
        try:
            unit = allocate_unit(
                db.session,
                form.unit_id.data,
                household,
                selection_date=form.selection_date.data,
                operator=current_user,
            )
        except RuleViolation as exc:
            db.session.rollback()
            if exc.field in ("unit_id", "selection_date"):
                show_violation(form, exc, "unit_id")
            else:
                problem = exc.message
        else:
            label, case_number = unit.label, household.case_number
            db.session.commit()
            flash(
                _("%(flat)s is allocated to household %(case)s.", flat=label, case=case_number),
                "success",
            )
            return redirect(household_url(household.id))
    if problem is None:
        try:
            check_can_select(household)
        except RuleViolation as exc:
            problem = exc.message
    filters = UnitFilterForm(formdata=request.args)
    units = available_units(db.session, _unit_filter(filters))
    queue = selection_queue(db.session, household.project_id)
    position = next((i for i, h in enumerate(queue, start=1) if h.id == household.id), None)
    return render_template(
        "sites/allocate.html",
        household=household,
        form=form,
        filters=filters,
        units=units,
        queue=queue[:QUEUE_SHOWN],
        queue_total=len(queue),
        position=position,
        problem=problem,
        household_url=household_url(household.id),
    )
