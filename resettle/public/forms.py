"""The forms of the public pages: shape of input only."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, Length


class StatusForm(FlaskForm):
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
