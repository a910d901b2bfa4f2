"""Agreement forms: the shape of the input only; the rules are in services."""

from flask_wtf import FlaskForm
from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from resettle.translate import lazy_gettext as _l


class IssueAgreementForm(FlaskForm):
    instalments = TextAreaField(
        _l("Instalments of the payment before moving"),
        validators=[Optional(), Length(max=2000)],
        description=_l(
            "Empty: one instalment within the rules' payment period. Otherwise one per line: "
            "amount, due date (such as 500000, 2026-12-20); they must add up."
        ),
    )
    moving_deadline = DateField(
        _l("Moving deadline"),
        validators=[Optional()],
        description=_l(
            "Empty: the plan's vacating deadline, or the project's notice period after the "
            "last payment. Never before the last payment."
        ),
    )

    transit_flat = StringField(
        _l("Transit flat (周转房), for a property swap"),
        validators=[Optional(), Length(max=200)],
        description=_l(
            "Empty: the household arranges its own transition and is paid the temporary "
            "allowance. Otherwise the transit flat the office lends (then no allowance)."
        ),
    )


class SupplementForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for the supplementary agreement"), validators=[Length(max=500)]
    )
    moving_deadline = DateField(_l("New moving deadline"), validators=[Optional()])
