"""The project form: shape of the input only; the rules are in services."""

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from resettle.forms import DayField, WholeNumberField
from resettle.translate import lazy_gettext as _l


class ProjectForm(FlaskForm):
    code = StringField(_l("Project code"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Project name"), validators=[DataRequired(), Length(max=200)])
    decision_number = StringField(_l("Decision number"), validators=[Optional(), Length(max=100)])
    decision_date = DayField(_l("Decision date"), validators=[Optional()])
    signing_start = DayField(_l("Signing window from"), validators=[Optional()])
    signing_end = DayField(_l("Signing window to"), validators=[Optional()])
    land_delivery_date = DayField(_l("Land delivery date"), validators=[Optional()])
    site_id = SelectField(
        _l("Resettlement estate for property swaps"),
        coerce=lambda v: int(v) if v not in (None, "", "None") else None,
        validators=[Optional()],
    )
    transition_months = WholeNumberField(
        _l("Transition period (months)"), default=24, validators=[NumberRange(min=0, max=120)]
    )
    remind_workdays = WholeNumberField(
        _l("Reminder: due within (working days)"), default=5, validators=[NumberRange(0, 60)]
    )
    supervise_workdays = WholeNumberField(
        _l("Supervision: late by more than (working days)"),
        default=10,
        validators=[NumberRange(1, 120)],
    )
    notice_workdays = WholeNumberField(
        _l("Notice period when the plan's date has passed (working days)"),
        default=10,
        validators=[NumberRange(1, 120)],
    )


class PublishForm(FlaskForm):
    """Publishing or withdrawing a project: nothing to fill in but the CSRF token."""
