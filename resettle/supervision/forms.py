"""Supervision forms: the shape of the input only; the rules are in orders.py."""

from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from resettle.forms import DayField, WholeNumberField
from resettle.translate import lazy_gettext as _l


class OrderForm(FlaskForm):
    responsible_unit = StringField(
        _l("Responsible unit"), validators=[DataRequired(), Length(max=100)]
    )
    rectify_workdays = WholeNumberField(
        _l("Rectification period (working days)"),
        default=5,
        validators=[InputRequired(), NumberRange(1, 60)],
    )
    note = TextAreaField(_l("Requirements"), validators=[Optional(), Length(max=2000)])


class ResponseForm(FlaskForm):
    responded_on = DayField(_l("Response date"), validators=[InputRequired()])
    text = TextAreaField(_l("Response"), validators=[DataRequired(), Length(max=4000)])


class CloseForm(FlaskForm):
    closed_on = DayField(_l("Closing date"), validators=[InputRequired()])
    note = TextAreaField(_l("Closing remarks"), validators=[Optional(), Length(max=2000)])
