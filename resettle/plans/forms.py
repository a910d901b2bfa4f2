"""Plan forms: shape of the input only; the rules are in services."""

from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from resettle.forms import DayField, WholeNumberField, strip_text
from resettle.translate import lazy_gettext as _l


class NodeForm(FlaskForm):
    name = StringField(_l("Node"), validators=[DataRequired(), Length(max=100)])
    duration = WholeNumberField(
        _l("Duration (working days, 0 = milestone)"),
        validators=[InputRequired(), NumberRange(0, 5000)],
    )
    predecessors = SelectMultipleField(
        _l("After (predecessors)"),
        coerce=int,  # no Optional(): it would take "   " for no choice and drop the links
        invalid_choice_message=_l("Choose from the list."),
    )
    lag = WholeNumberField(
        _l("Lag after each predecessor (working days)"),
        default=0,
        validators=[Optional(), NumberRange(0, 1000)],
    )
    responsible_unit = StringField(_l("Responsible unit"), validators=[Optional(), Length(max=100)])
    responsible_person = StringField(
        _l("Responsible person"), validators=[Optional(), Length(max=64)]
    )
    leader = StringField(_l("Leader"), validators=[Optional(), Length(max=64)])
    stage = SelectField(
        _l("Sets the deadline of the household stage"),
        validators=[Optional()],
        filters=[strip_text],
    )
    actual_start = DayField(_l("Actual start"), validators=[Optional()])
    actual_finish = DayField(_l("Actual finish"), validators=[Optional()])


class CalendarDayForm(FlaskForm):
    day = DayField(_l("Date"), validators=[InputRequired()])
    working = SelectField(
        _l("Kind"),
        choices=[("off", _l("Non-working day")), ("on", _l("Working day"))],
        validators=[DataRequired()],
    )
    official = SelectField(
        _l("Source"),
        choices=[
            ("local", _l("Local decision")),
            ("official", _l("State Council holiday schedule")),
        ],
        validators=[DataRequired()],
    )
    note = StringField(_l("Note"), validators=[Optional(), Length(max=100)])


class OfficialYearForm(FlaskForm):
    year = WholeNumberField(_l("Year"), validators=[InputRequired(), NumberRange(2004, 2100)])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])
