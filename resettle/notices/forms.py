"""Notice forms: the shape of the input only; the rules are in services."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, DateTimeLocalField, SelectField, TextAreaField
from wtforms.validators import DataRequired, NumberRange, Optional

from resettle.db import database_int
from resettle.forms import WholeNumberField
from resettle.translate import lazy_gettext as _l


class IssueNoticeForm(FlaskForm):
    type = SelectField(_l("Notice"), validators=[DataRequired()])
    selection_at = DateTimeLocalField(
        _l("Selection time (selection notices)"),
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        validators=[Optional()],
    )
    deadline = DateField(
        _l("Date the notice asks for"),
        validators=[Optional()],
        description=_l(
            "Empty: the plan's deadline, or, once that has passed, the project's notice period "
            "from today. Never before today."
        ),
    )
    again = BooleanField(_l("Issue another although one of this type is in force"))


class BatchForm(FlaskForm):
    project = SelectField(_l("Project"), coerce=database_int, validators=[DataRequired()])
    type = SelectField(_l("Notice"), validators=[DataRequired()])
    selection_at = DateTimeLocalField(
        _l("Selection time of the first household (selection notices)"),
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        validators=[Optional()],
    )
    deadline = DateField(
        _l("Date every notice asks for"),
        validators=[Optional()],
        description=_l(
            "Empty: each household's plan deadline, or, once that has passed, the project's "
            "notice period from today."
        ),
    )
    again = BooleanField(_l("Also to households that have one of this type in force"))
    slot_minutes = WholeNumberField(
        _l("Minutes between two households"),
        default=10,
        validators=[Optional(), NumberRange(0, 240)],
    )


class VoidForm(FlaskForm):
    reason = TextAreaField(_l("Reason for voiding"), validators=[DataRequired()])
