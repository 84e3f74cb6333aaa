"""Amendment forms. Length limits mirror the services'."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..documents.services import LIMITS
from ..forms import choices
from .models import KIND_LABELS, Kind

REASON_HELP = _l("Why should the assembly adopt this? Shown with the amendment.")


class ProposalForm(FlaskForm):
    """Propose an amendment, or edit one: the text starts from the section's current text."""

    kind = RadioField(_l("What does the amendment do?"),
                      choices=choices((k.value, KIND_LABELS[k.value]) for k in Kind),
                      default=Kind.MODIFY.value)
    section_id = SelectField(_l("Section"), coerce=int, validators=[Optional()],
                             description=_l("For a new section: the section it follows."))
    heading = StringField(_l("Heading"), validators=[Optional(), Length(max=LIMITS["heading"])],
                          description=_l("Change it only if the amendment renames the section."))
    body = TextAreaField(_l("Text (Markdown)"), validators=[Optional(), Length(max=LIMITS["body"])],
                         description=_l("Edit the text as you want it to read. Separate paragraphs with a blank line."))
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=LIMITS["reason"])],
                           description=REASON_HELP)
    base_version_id = HiddenField()
    revision = HiddenField()


class WithdrawForm(FlaskForm):
    """The author withdraws an amendment."""

    reason = TextAreaField(_l("Why (optional)"), validators=[Optional(), Length(max=LIMITS["reason"])])
    revision = HiddenField()


class DecisionForm(FlaskForm):
    """A moderator's decision with its public reason."""

    decision = RadioField(_l("Decision"), choices=choices([
        ("accept", _l("Accept as proposed")),
        ("accept_modified", _l("Accept with modifications (edit the final text below)")),
        ("reject", _l("Reject")),
        ("obsolete", _l("Mark as obsolete")),
        ("merged", _l("Mark as merged into another amendment")),
    ]), validators=[DataRequired(message=_l("Choose a decision."))])
    reason = TextAreaField(_l("Public reason"), validators=[DataRequired(), Length(max=LIMITS["reason"])],
                           description=_l("Shown on the amendment page and in the log."))
    final_heading = StringField(_l("Final heading (for accept with modifications)"),
                                validators=[Optional(), Length(max=LIMITS["heading"])])
    final_body = TextAreaField(_l("Final text (for accept with modifications)"),
                               validators=[Optional(), Length(max=LIMITS["body"])])
    merged_into = StringField(_l("Merged into (code, e.g. A-007)"), validators=[Optional(), Length(max=20)])
    revision = HiddenField()
