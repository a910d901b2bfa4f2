"""Disclosure forms: the shape of the input only; the rules are in services."""

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from resettle.disclosure.models import DisclosureKind
from resettle.disclosure.services import KIND_LABELS
from resettle.forms import DayField
from resettle.translate import lazy_gettext as _l


class PrepareForm(FlaskForm):
    project_id = SelectField(_l("Project"), coerce=int, validators=[InputRequired()])
    kind = SelectField(
        _l("What is disclosed"), choices=[(k.value, KIND_LABELS[k]) for k in DisclosureKind]
    )
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    period_start = DayField(_l("Period starts"), validators=[InputRequired(_l("Enter a date."))])
    period_end = DayField(_l("Period ends"), validators=[InputRequired(_l("Enter a date."))])


class ApproveForm(FlaskForm):
    pass


class WithdrawForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for the withdrawal (shown publicly)"),
        validators=[DataRequired(), Length(max=500)],
    )


class DiscardForm(FlaskForm):
    pass
