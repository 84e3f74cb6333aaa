"""Forms for documents and sections. Length limits mirror the services'."""

from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..forms import choices
from .models import Phase
from .services import LIMITS

REASON_HELP = "Say why, for the record: it is shown in the section's history."


class SectionForm(FlaskForm):
    """Edit a section: a new version with a reason."""

    heading = StringField("Heading", validators=[DataRequired(), Length(max=LIMITS["heading"])])
    body = TextAreaField("Text (Markdown)", validators=[DataRequired(), Length(max=LIMITS["body"])],
                         description="Separate paragraphs with a blank line. *Emphasis*, **strong**, lists with “- ”.")
    reason = TextAreaField("Reason for the change", validators=[DataRequired(), Length(max=LIMITS["reason"])],
                           description=REASON_HELP)
    base_version = HiddenField()


class NewSectionForm(SectionForm):
    """Add a section at a chosen place."""

    after = SelectField("Place", coerce=int, validators=[Optional()])
    structure_version = HiddenField()


class RevertForm(FlaskForm):
    """Make an earlier version current again."""

    to_number = HiddenField(validators=[DataRequired()])
    reason = TextAreaField("Reason for the revert", validators=[DataRequired(), Length(max=LIMITS["reason"])])
    base_version = HiddenField()


class RetireForm(FlaskForm):
    """Take a section out of the text, or bring it back."""

    reason = TextAreaField("Reason", validators=[DataRequired(), Length(max=LIMITS["reason"])])
    base_version = HiddenField()


class MoveForm(FlaskForm):
    """Move a section up or down."""

    direction = HiddenField(validators=[DataRequired()])
    structure_version = HiddenField()


class DocumentSettingsForm(FlaskForm):
    """An admin's settings of a document."""

    title = StringField("Title", validators=[DataRequired(), Length(max=LIMITS["title"])])
    introduction = TextAreaField("Introduction (Markdown)", validators=[Optional(), Length(max=LIMITS["introduction"])])
    phase = SelectField("Phase", choices=choices((p.value, p.label) for p in Phase))
    amendment_deadline = DateTimeLocalField("Amendment deadline (UTC, optional)", format="%Y-%m-%dT%H:%M",
                                            validators=[Optional()],
                                            description="After this moment no new amendments can be proposed.")
    min_supporters = IntegerField("Supporters needed before a decision", default=0,
                                  validators=[InputRequired(), NumberRange(min=0, max=1000)])
