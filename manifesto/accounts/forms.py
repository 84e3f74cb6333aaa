"""Account forms. Length limits mirror the services' limits."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from flask_babel import lazy_gettext as _l

from ..forms import choices
from ..i18n import LANGUAGES, timezone_names
from .models import Role
from .services import LIMITS, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH


class RegisterForm(FlaskForm):
    """Create an account."""

    email = EmailField("Email address", validators=[DataRequired(), Length(max=LIMITS["email"])])
    name = StringField("Display name", validators=[DataRequired(), Length(max=LIMITS["name"])],
                       description="Shown next to your amendments and support.")
    organisation = StringField("Organisation (optional)", validators=[Optional(), Length(max=LIMITS["organisation"])])
    country = StringField("Country (optional)", validators=[Optional(), Length(max=LIMITS["country"])])
    password = PasswordField("Password", validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH)],
                             description=f"At least {MIN_PASSWORD_LENGTH} characters.")
    confirm = PasswordField("Repeat the password", validators=[DataRequired(), EqualTo("password", "The two passwords differ.")])


class LoginForm(FlaskForm):
    """Log in."""

    email = EmailField("Email address", validators=[DataRequired(), Length(max=LIMITS["email"])])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
    remember = BooleanField("Keep me logged in on this device")
    next = HiddenField()


class PasswordForm(FlaskForm):
    """Change one's password."""

    current_password = PasswordField("Current password", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
    new_password = PasswordField("New password", validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH)],
                                 description=f"At least {MIN_PASSWORD_LENGTH} characters.")
    confirm = PasswordField("Repeat the new password", validators=[DataRequired(), EqualTo("new_password", "The two passwords differ.")])


class CreditForm(FlaskForm):
    """Choose whether exported texts name you among the contributors."""

    credit = BooleanField("Name me among the contributors in exported texts")


class PreferencesForm(FlaskForm):
    """Interface language and time zone."""

    locale = SelectField(_l("Language"), validate_choice=False,
                         description=_l("The language of pages and of the mail we send you. "
                                        "The text of the manifesto stays in the language it is written in."))
    timezone = SelectField(_l("Time zone"), validate_choice=False,
                           description=_l("Times are shown in this zone, and say which zone they are in."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.locale.choices = choices([("", _l("Same as my browser")), *LANGUAGES.items()])
        self.timezone.choices = choices((zone, zone.replace("_", " ")) for zone in timezone_names())


class RoleForm(FlaskForm):
    """An admin gives a user a role."""

    role = SelectField("Role", choices=choices((r.value, r.label) for r in Role))


class ActiveForm(FlaskForm):
    """An admin deactivates or reactivates an account (the button says which)."""

    active = HiddenField()


class LogoutForm(FlaskForm):
    """Logging out is a POST, so a link on another site cannot do it."""
