"""Fund forms: the shape of the input only; the rules are in services."""

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from resettle.forms import AmountField, AreaField, DayField, WholeNumberField
from resettle.funds.models import MonthCounting, SourceKind
from resettle.translate import lazy_gettext as _l


class RuleForm(FlaskForm):
    effective_from = DayField(_l("In force from"), validators=[InputRequired()])
    moving_allowance_per_m2 = AmountField(
        _l("Moving allowance (yuan/m², each move)"), validators=[InputRequired()]
    )
    temporary_allowance_per_m2_month = AmountField(
        _l("Temporary allowance (yuan/m² a month)"), validators=[InputRequired()]
    )
    month_counting = SelectField(
        _l("Months are counted"),
        choices=[
            (MonthCounting.STARTED.value, _l("a started month counts as a month")),
            (MonthCounting.WHOLE.value, _l("whole months only")),
        ],
    )
    signing_bonus = AmountField(
        _l("Signing bonus inside the window (yuan)"), validators=[InputRequired()]
    )
    price_within_entitled = AmountField(
        _l("Flat price within the entitled area (yuan/m²)"), validators=[InputRequired()]
    )
    band_m2 = AreaField(_l("First extra band (m²)"), validators=[InputRequired()])
    price_first_band = AmountField(
        _l("Flat price in the first extra band (yuan/m²)"), validators=[InputRequired()]
    )
    price_beyond_band = AmountField(
        _l("Flat price beyond the band (yuan/m²)"), validators=[InputRequired()]
    )
    overrun_tiers = StringField(
        _l("Overrun multiplier (from overdue month: multiplier)"),
        default="1:2",
        validators=[DataRequired(), Length(max=100)],
    )
    compensation_due_days = WholeNumberField(
        _l("Compensation due within (days after signing)"),
        default=15,
        validators=[InputRequired(), NumberRange(0, 365)],
    )
    note = StringField(_l("Note"), validators=[Optional(), Length(max=300)])


class SourceForm(FlaskForm):
    kind = SelectField(_l("Kind"))
    name = StringField(_l("Source name"), validators=[DataRequired(), Length(max=100)])
    amount = AmountField(_l("Amount (yuan)"), validators=[InputRequired()])
    available_on = DayField(_l("Available on"), validators=[InputRequired()])

    def __init__(self, *args, **kwargs):  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        from resettle.i18n import SOURCE_KIND_LABELS

        self.kind.choices = [(k.value, SOURCE_KIND_LABELS[k]) for k in SourceKind]


class ReverseForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
