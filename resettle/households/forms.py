"""Household forms: the shape of the input only; the rules are in services."""

from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from resettle.forms import AmountField, AreaField, DayField, WholeNumberField, strip_text
from resettle.funds.models import PaymentKind
from resettle.households.models import CompensationMode
from resettle.translate import lazy_gettext as _l

HOUSE_USES = [("住宅", "住宅"), ("商住", "商住"), ("非住宅", "非住宅")]
# Why a household qualifies for the hardship subsidy (困难补助), as the office writes it.
HARDSHIP_REASONS = ["低保", "特困", "低收入", "重度残疾", "重大疾病"]
RELATIONS = ["配偶", "子女", "父母", "孙子女", "兄弟姐妹", "其他"]


class MemberForm(Form):
    name = StringField(_l("Name"), validators=[Optional(), Length(max=64)])
    relation = SelectField(
        _l("Relation"),
        choices=[("", "")] + [(r, r) for r in RELATIONS],
        validators=[Optional()],
        filters=[strip_text],
    )
    id_number = StringField(_l("ID number"), validators=[Optional(), Length(max=30)])


def mode_choices() -> list[tuple[str, str]]:
    from resettle.i18n import MODE_LABELS

    return [("", _l("Not chosen yet"))] + [(m.value, MODE_LABELS[m]) for m in CompensationMode]


class HouseholdForm(FlaskForm):
    head_name = StringField(_l("Head of household"), validators=[DataRequired(), Length(max=64)])
    head_id_number = StringField(_l("ID number"), validators=[DataRequired(), Length(max=30)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=20)])
    house_address = StringField(_l("House address"), validators=[DataRequired(), Length(max=300)])
    legal_area = AreaField(
        _l("Legal floor area (m²)"), validators=[InputRequired(), NumberRange(min=0)]
    )
    unregistered_area = AreaField(
        _l("Unregistered area (m²)"),
        default=0,
        validators=[Optional(), NumberRange(min=0)],
    )
    house_use = SelectField(_l("Use"), choices=HOUSE_USES)
    appraisal_unit_price = AmountField(
        _l("Appraised unit price (yuan/m²)"), validators=[Optional(), NumberRange(min=0)]
    )
    appraisal_value = AmountField(
        _l("Appraised value (yuan)"), validators=[Optional(), NumberRange(min=0)]
    )
    decoration_value = AmountField(
        _l("Appraised decoration (yuan)"), validators=[Optional(), NumberRange(min=0)]
    )
    business_area = AreaField(
        _l("Area used for business (m², blank: the legal area)"),
        validators=[Optional(), NumberRange(min=0)],
    )
    lawful_unregistered_area = AreaField(
        _l("Unregistered area found lawful (m²)"),
        default=Decimal("0"),
        validators=[Optional(), NumberRange(min=0)],
    )
    hardship = SelectField(
        _l("Hardship (qualifies for the subsidy)"),
        choices=[("", _l("Does not qualify"))] + [(r, r) for r in HARDSHIP_REASONS],
        validators=[Optional()],
        filters=[strip_text],
    )
    compensation_mode = SelectField(
        _l("Compensation mode"), validators=[Optional()], filters=[strip_text]
    )
    entitled_area = AreaField(
        _l("Entitled resettlement area (m²)"), validators=[Optional(), NumberRange(min=0)]
    )
    selection_order = WholeNumberField(
        _l("Selection order number"), validators=[Optional(), NumberRange(min=1)]
    )
    caseworker_id = SelectField(
        _l("Responsible caseworker"), coerce=str, validators=[Optional()], filters=[strip_text]
    )
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])
    members = FieldList(FormField(MemberForm), min_entries=3)
    # Shown once a warning came up (an ID number's region code the national table lacks).
    warnings_confirmed = BooleanField(_l("I checked the ID numbers against the ID cards"))

    def __init__(self, *args, **kwargs):  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.compensation_mode.choices = mode_choices()


class NewHouseholdForm(HouseholdForm):
    project_id = SelectField(_l("Expropriation project"), coerce=int, validators=[DataRequired()])
    case_number = StringField(
        _l("Case number (blank: next free number)"), validators=[Optional(), Length(max=40)]
    )
    survey_date = DayField(_l("Survey date"), validators=[InputRequired()])


class FixtureCountForm(Form):
    """How many of one price-list item the household has (the item is named by the page)."""

    name = HiddenField()
    quantity = AreaField(validators=[Optional(), NumberRange(min=0)])


class EditHouseholdForm(HouseholdForm):
    version = HiddenField()
    loaded_at = HiddenField()
    fixture_counts = FieldList(FormField(FixtureCountForm), min_entries=0)


class AdjustmentForm(FlaskForm):
    label = StringField(
        _l("Item (blank: other compensation or other deduction)"),
        validators=[Optional(), Length(max=60)],
        id="line-label",  # the page has the payment form's amount too: ids of their own
    )
    amount = AmountField(
        _l("Amount (yuan, negative to deduct)"), validators=[InputRequired()], id="line-amount"
    )
    reason = StringField(
        _l("Reason"), validators=[DataRequired(), Length(max=500)], id="line-reason"
    )


class RemoveAdjustmentForm(FlaskForm):
    """Only the CSRF token: the line to remove is in the address."""


class StepForm(FlaskForm):
    # rendered by hand as a <select> of the household's stages (not a hidden field)
    stage = StringField(validators=[DataRequired()])
    actual_date = DayField(_l("Date"), validators=[InputRequired()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


class UndoForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
    # the stage the page showed as the latest: a second send of the form undoes nothing more
    stage = HiddenField()


class PaymentForm(FlaskForm):
    kind = SelectField(_l("Payment type"))
    amount = AmountField(_l("Amount (yuan)"), validators=[InputRequired()])
    paid_on = DayField(_l("Paid on"), validators=[InputRequired()])
    voucher_number = StringField(_l("Voucher number"), validators=[DataRequired(), Length(max=60)])
    payee = StringField(_l("Payee"), validators=[Optional(), Length(max=100)])

    def __init__(self, *args, **kwargs):  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        from resettle.i18n import PAYMENT_KIND_LABELS

        self.kind.choices = [(k.value, PAYMENT_KIND_LABELS[k]) for k in PaymentKind]
