"""Account forms. Length limits mirror the services' limits.

Labels, help and messages are lazy (``_l``): the classes are built once, at
import, and each reader sees them in their own language.
"""

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from ..forms import choices
from ..i18n import LANGUAGES, timezone_names
from .models import Role
from .passwords import describe_policy
from .services import LIMITS, MAX_PASSWORD_LENGTH

# The policy (length, common passwords, one's own name) is the service's: its message shows by the field.
NEW_PASSWORD_HELP = LazyString(describe_policy)


class RegisterForm(FlaskForm):
    """Create an account."""

    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=LIMITS["email"])])
    name = StringField(_l("Display name"), validators=[DataRequired(), Length(max=LIMITS["name"])],
                       description=_l("Shown next to your amendments and support."))
    organisation = StringField(_l("Organisation (optional)"),
                               validators=[Optional(), Length(max=LIMITS["organisation"])])
    country = StringField(_l("Country (optional)"), validators=[Optional(), Length(max=LIMITS["country"])])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)],
                             description=NEW_PASSWORD_HELP)
    confirm = PasswordField(_l("Repeat the password"),
                            validators=[DataRequired(), EqualTo("password", _l("The two passwords differ."))])


class LoginForm(FlaskForm):
    """Log in."""

    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=LIMITS["email"])])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
    remember = BooleanField(_l("Keep me logged in on this device"))
    next = HiddenField()


class PasswordForm(FlaskForm):
    """Change one's password."""

    current_password = PasswordField(_l("Current password"),
                                     validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)],
                                 description=NEW_PASSWORD_HELP)
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(), EqualTo("new_password", _l("The two passwords differ."))])


class CreditForm(FlaskForm):
    """Choose whether exported texts name you among the contributors."""

    credit = BooleanField(_l("Name me among the contributors in exported texts"))


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

    role = SelectField(_l("Role"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Built per request: the labels are in the reader's language.
        self.role.choices = choices((r.value, r.label) for r in Role)


class ActiveForm(FlaskForm):
    """An admin deactivates or reactivates an account (the button says which)."""

    active = HiddenField()


class LogoutForm(FlaskForm):
    """Logging out is a POST, so a link on another site cannot do it."""


class ResetRequestForm(FlaskForm):
    """Ask for a link to choose a new password."""

    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=LIMITS["email"])],
                       description=_l("The address of your account. We send the link there."))


class NewPasswordForm(FlaskForm):
    """Choose a password from a mailed link (a reset or an invitation)."""

    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)],
                             description=NEW_PASSWORD_HELP)
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(), EqualTo("password", _l("The two passwords differ."))])


class VerificationForm(FlaskForm):
    """Send the address verification link again (a POST, with CSRF)."""
