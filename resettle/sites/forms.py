"""Estate forms: shape of the input only; the rules are in services."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from resettle.db import database_int
from resettle.forms import AreaField, DayField, WholeNumberField
from resettle.translate import lazy_gettext as _l


class SiteForm(FlaskForm):
    name = StringField(_l("Estate name"), validators=[DataRequired(), Length(max=200)])
    location = StringField(_l("Location"), validators=[Optional(), Length(max=300)])
    promised_handover_date = DayField(_l("Promised handover date"), validators=[Optional()])


class BuildingForm(FlaskForm):
    name = StringField(
        _l("Building"),
        validators=[DataRequired(), Length(max=50)],
        description=_l("For example 1#楼 or 2号楼."),
    )
    floors = WholeNumberField(_l("Floors"), validators=[InputRequired(), NumberRange(min=1)])
    entrances = WholeNumberField(
        _l("Entrances"), default=1, validators=[InputRequired(), NumberRange(min=1)]
    )
    flats_per_floor = WholeNumberField(
        _l("Flats per floor and entrance"),
        default=2,
        validators=[InputRequired(), NumberRange(min=0)],
        description=_l("0 adds the building without flats; add them one by one or import them."),
    )
    flat_areas = StringField(
        _l("Floor areas (m²)"),
        validators=[Optional(), Length(max=500)],
        description=_l(
            "One area per flat on a floor in the order of their numbers (01, 02, …), separated "
            "by commas, such as 89.50, 120.00; or one area for all of them."
        ),
    )


class UnitForm(FlaskForm):
    entrance = StringField(_l("Entrance"), default="1", validators=[Length(max=10)])
    floor = WholeNumberField(_l("Floor"), validators=[InputRequired()])
    number = StringField(_l("Flat number"), validators=[DataRequired(), Length(max=10)])
    area = StringField(_l("Floor area (m²)"), validators=[DataRequired(), Length(max=20)])


class UnitImportForm(FlaskForm):
    file = FileField(
        _l("Excel file (.xlsx or .xls)"),
        validators=[FileRequired(_l("Choose a file."))],
    )


class ConfirmForm(FlaskForm):
    """A button that only needs the CSRF token (confirm an import, mark a building complete)."""

    token = HiddenField()


class AllocationForm(FlaskForm):
    unit_id = WholeNumberField(_l("Flat"), validators=[InputRequired(_l("Choose a flat."))])
    selection_date = DayField(_l("Selection date"), validators=[InputRequired()])


class UnitFilterForm(FlaskForm):
    """The filters above the list of available flats (GET, no CSRF)."""

    class Meta:
        csrf = False

    site = SelectField(_l("Estate"), coerce=database_int, validate_choice=False, default=0)
    building = SelectField(_l("Building"), coerce=database_int, validate_choice=False, default=0)
    min_area = AreaField(_l("Area from (m²)"), validators=[Optional()])
    max_area = AreaField(_l("Area to (m²)"), validators=[Optional()])
