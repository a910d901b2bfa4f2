"""Login, password and account forms."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from resettle.translate import lazy_gettext as _l


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    next = HiddenField()


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[
            DataRequired(),
            EqualTo("new_password", message=_l("The two passwords differ.")),
        ],
    )


class ProjectChoiceField(SelectMultipleField):
    """The projects an account works in, one checkbox each."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AccessForm(FlaskForm):
    """What an account may do: its role and its projects (or every project)."""

    role = SelectField(_l("Role"), validators=[DataRequired()])
    all_projects = BooleanField(_l("Every project"))
    projects = ProjectChoiceField(_l("Projects"), coerce=int)


class NewAccountForm(AccessForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=64)])
    unit_name = StringField(_l("Unit"), validators=[Optional(), Length(max=100)])
    password = PasswordField(
        _l("Initial password"),
        validators=[DataRequired(), Length(max=200)],
        description=_l("The person chooses an own password at the first login."),
    )


class ActionForm(FlaskForm):
    """A button that changes an account (reset, unlock, disable, enable): only the CSRF token."""


class SecondFactorForm(FlaskForm):
    """The second step of a login: the app's six digits, or one of the recovery codes."""

    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=20)],
        description=_l("The six digits your authenticator app shows, or one recovery code."),
    )


class EnrolForm(FlaskForm):
    code = StringField(
        _l("Code from the app"),
        validators=[DataRequired(), Length(max=20)],
        description=_l("After scanning, type the six digits the app shows."),
    )


class ReauthenticateForm(FlaskForm):
    """An action on the own second factor asks for the password again."""

    password = PasswordField(_l("Your password"), validators=[DataRequired(), Length(max=200)])
