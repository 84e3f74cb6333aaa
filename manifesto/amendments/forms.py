"""Amendment forms. Length limits mirror the services'."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..documents.services import LIMITS
from ..forms import choices
from .models import Kind

REASON_HELP = "Why should the assembly adopt this? Shown with the amendment."


class ProposalForm(FlaskForm):
    """Propose an amendment, or edit one: the text starts from the section's current text."""

    kind = RadioField("What does the amendment do?", choices=choices((k.value, k.label) for k in Kind),
                      default=Kind.MODIFY.value)
    section_id = SelectField("Section", coerce=int, validators=[Optional()],
                             description="For a new section: the section it follows.")
    heading = StringField("Heading", validators=[Optional(), Length(max=LIMITS["heading"])],
                          description="Change it only if the amendment renames the section.")
    body = TextAreaField("Text (Markdown)", validators=[Optional(), Length(max=LIMITS["body"])],
                         description="Edit the text as you want it to read. Separate paragraphs with a blank line.")
    reason = TextAreaField("Reason", validators=[DataRequired(), Length(max=LIMITS["reason"])], description=REASON_HELP)
    base_version_id = HiddenField()
    revision = HiddenField()


class WithdrawForm(FlaskForm):
    """The author withdraws an amendment."""

    reason = TextAreaField("Why (optional)", validators=[Optional(), Length(max=LIMITS["reason"])])
    revision = HiddenField()


class DecisionForm(FlaskForm):
    """A moderator's decision with its public reason."""

    decision = RadioField("Decision", choices=choices([
        ("accept", "Accept as proposed"),
        ("accept_modified", "Accept with modifications (edit the final text below)"),
        ("reject", "Reject"),
        ("obsolete", "Mark as obsolete"),
        ("merged", "Mark as merged into another amendment"),
    ]), validators=[DataRequired(message="Choose a decision.")])
    reason = TextAreaField("Public reason", validators=[DataRequired(), Length(max=LIMITS["reason"])],
                           description="Shown on the amendment page and in the log.")
    final_heading = StringField("Final heading (for accept with modifications)",
                                validators=[Optional(), Length(max=LIMITS["heading"])])
    final_body = TextAreaField("Final text (for accept with modifications)",
                               validators=[Optional(), Length(max=LIMITS["body"])])
    merged_into = StringField("Merged into (code, e.g. A-007)", validators=[Optional(), Length(max=20)])
    revision = HiddenField()
