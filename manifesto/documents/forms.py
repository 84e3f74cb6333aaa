"""Forms for documents and sections. Length limits mirror the services'.

Labels and help texts are lazy: read when the form is shown, in the reader's language.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..forms import choices
from ..i18n import LANGUAGES
from .models import PHASE_LABELS, TEXT_LANGUAGES, Phase
from .services import LIMITS

REASON_HELP = _l("Say why, for the record: it is shown in the section's history.")


class SectionForm(FlaskForm):
    """Edit a section: a new version with a reason."""

    heading = StringField(_l("Heading"), validators=[DataRequired(), Length(max=LIMITS["heading"])])
    body = TextAreaField(_l("Text (Markdown)"), validators=[DataRequired(), Length(max=LIMITS["body"])],
                         description=_l("Separate paragraphs with a blank line. *Emphasis*, **strong**, "
                                        "lists with “- ”."))
    reason = TextAreaField(_l("Reason for the change"), validators=[DataRequired(), Length(max=LIMITS["reason"])],
                           description=REASON_HELP)
    base_version = HiddenField()


class NewSectionForm(SectionForm):
    """Add a section at a chosen place."""

    after = SelectField(_l("Place"), coerce=int, validators=[Optional()])
    structure_version = HiddenField()


class RevertForm(FlaskForm):
    """Make an earlier version current again."""

    to_number = HiddenField(validators=[DataRequired()])
    reason = TextAreaField(_l("Reason for the revert"), validators=[DataRequired(), Length(max=LIMITS["reason"])])
    base_version = HiddenField()


class RetireForm(FlaskForm):
    """Take a section out of the text, or bring it back."""

    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=LIMITS["reason"])])
    base_version = HiddenField()


class MoveForm(FlaskForm):
    """Move a section up or down."""

    direction = HiddenField(validators=[DataRequired()])
    structure_version = HiddenField()


class DocumentSettingsForm(FlaskForm):
    """An admin's settings of a document.

    The deadline is typed and shown in the admin's own time zone (the view
    names it in the label and converts to and from UTC, as it is stored).
    """

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=LIMITS["title"])])
    introduction = TextAreaField(_l("Introduction (Markdown)"),
                                 validators=[Optional(), Length(max=LIMITS["introduction"])])
    language = SelectField(_l("Language of the text"),
                           choices=choices((code, LANGUAGES[code]) for code in TEXT_LANGUAGES),
                           description=_l("The language the document is written in: search finds the forms of "
                                          "its words, and screen readers pronounce it in that language."))
    phase = SelectField(_l("Phase"), choices=choices((p.value, PHASE_LABELS[p.value]) for p in Phase))
    amendment_deadline = DateTimeLocalField(_l("Amendment deadline (optional)"), format="%Y-%m-%dT%H:%M",
                                            validators=[Optional()],
                                            description=_l("After this moment no new amendments can be proposed."))
    min_supporters = IntegerField(_l("Supporters needed before a decision"), default=0,
                                  validators=[InputRequired(), NumberRange(min=0, max=1000)])
