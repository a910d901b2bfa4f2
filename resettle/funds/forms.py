"""Fund forms: the shape of the input only; the rules are in services."""

from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from resettle.forms import AmountField, AreaField, DayField, WholeNumberField
from resettle.funds.models import (
    BUSINESS_LOSS_METHOD_LABELS,
    BusinessLossMethod,
    MonthCounting,
    SourceKind,
)
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
    signing_reward_tiers = StringField(
        _l("Signing reward tiers (signed on or before date: yuan)"),
        description=_l(
            "Such as 2025-03-31:30000,2025-04-30:20000; the first date the signing is on or "
            "before applies. Blank: the signing bonus inside the window."
        ),
        validators=[Optional(), Length(max=300)],
    )
    moving_bonus_tiers = StringField(
        _l("Moving bonus tiers (vacated on or before date: yuan)"),
        description=_l("Such as 2025-05-31:10000,2025-06-30:5000. Blank: no moving bonus."),
        validators=[Optional(), Length(max=300)],
    )
    business_loss_method = SelectField(
        _l("Business-loss compensation (non-residential use)"),
        choices=[("", _l("none"))]
        + [(m.value, BUSINESS_LOSS_METHOD_LABELS[m]) for m in BusinessLossMethod],
        validators=[Optional()],
    )
    business_loss_percent = AmountField(
        _l("Business loss: share of the house value (%)"),
        digits=3,
        validators=[Optional(), NumberRange(min=0)],
    )
    business_loss_months = WholeNumberField(
        _l("Business loss: months"), validators=[Optional(), NumberRange(1, 120)]
    )
    business_loss_per_m2_month = AmountField(
        _l("Business loss: yuan/m² a month"), validators=[Optional(), NumberRange(min=0)]
    )
    lawful_unregistered_per_m2 = AmountField(
        _l("Unregistered building found lawful (yuan/m²)"),
        default=Decimal("0"),
        validators=[Optional(), NumberRange(min=0)],
    )
    hardship_subsidy = AmountField(
        _l("Hardship subsidy per qualifying household (yuan)"),
        default=Decimal("0"),
        validators=[Optional(), NumberRange(min=0)],
    )
    price_list = TextAreaField(
        _l("Price list of fixtures and relocations"),
        description=_l("One item a line: name,unit,price in yuan, such as 空调移装,台,300."),
        validators=[Optional(), Length(max=20000)],
        render_kw={"rows": 8},
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
