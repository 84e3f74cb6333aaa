"""Forms for releases. Length limits mirror the services'."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from .models import NAME_MAX
from .services import DESCRIPTION_MAX


class PublishForm(FlaskForm):
    """Publish the live text as a named release."""

    name = StringField(_l("Name"),
                       validators=[DataRequired(message=_l("Give the release a name.")),
                                   Length(max=NAME_MAX)],
                       description=_l("Shown in the list and on every export, e.g. “Draft 2 — for the regional "
                                      "consultations”. Its address is made from it."))
    description = TextAreaField(_l("Description (Markdown, optional)"),
                                validators=[Optional(), Length(max=DESCRIPTION_MAX)],
                                description=_l("What this release is for and what changed since the last one."))
    final = BooleanField(_l("This is the final text: move the document to the final phase "
                            "(amendments close and the text stops changing)"))


class MarkFinalForm(FlaskForm):
    """Make an existing release the final text."""

    confirm = HiddenField(default="1")
