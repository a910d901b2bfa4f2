"""The forms of the public pages: shape of input only."""

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, Length

from resettle.translate import lazy_gettext as _l


class StatusForm(FlaskForm):
    """The resident's lookup. No CSRF token: the form changes nothing a forged request could
    abuse (the answer goes to whoever asks, who could ask directly), and a token would need a
    session cookie, which phones' in-app browsers may refuse or drop while a resident finds
    the papers. Guessing is held back by the rate limits instead."""

    class Meta:
        csrf = False

    case_number = StringField(
        _l("Case number"),
        validators=[InputRequired(_l("Enter the case number.")), Length(max=40)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )
    id_suffix = StringField(
        _l("Last six characters of the head of household's ID number"),
        validators=[InputRequired(_l("Enter the last six characters.")), Length(max=12)],
        render_kw={
            "autocomplete": "off",
            "autocapitalize": "characters",
            "inputmode": "text",
            "spellcheck": "false",
        },
    )
