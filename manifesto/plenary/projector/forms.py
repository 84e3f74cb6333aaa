"""The console's forms: what to show, stepping, a blank screen with a message, the decision on what is shown.

Each carries the projection's ``revision`` (the state the console showed), so a stale console is refused.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ...documents.services import LIMITS
from ...forms import choices
from .models import MESSAGE_MAX

# The decisions a plenary takes from the console (the amendment page's own, the final text of "with
# modifications" edited in the console as the room agrees on it).
CONSOLE_DECISIONS = (
    ("accept", _l("Accept as proposed")),
    ("accept_modified", _l("Accept with modifications (edit the final text below)")),
    ("reject", _l("Reject")),
    ("obsolete", _l("Mark as obsolete")),
    ("merged", _l("Mark as merged into another amendment")),
)


class ShowSectionForm(FlaskForm):
    """Put a section on the screen."""

    section_id = SelectField(_l("Section"), coerce=int, validators=[DataRequired(message=_l("Choose a section."))])
    revision = HiddenField()


class ShowAmendmentForm(FlaskForm):
    """Put an amendment on the screen."""

    amendment_id = SelectField(_l("Amendment"), coerce=int,
                               validators=[DataRequired(message=_l("Choose an amendment."))])
    revision = HiddenField()


class ShowVoteForm(FlaskForm):
    """Put a vote on the whole text on the screen."""

    vote_id = SelectField(_l("Vote on the whole text"), coerce=int,
                          validators=[DataRequired(message=_l("Choose a vote."))])
    revision = HiddenField()


class StepForm(FlaskForm):
    """Show the next or the previous open amendment of the section (the button pressed says which)."""

    revision = HiddenField()


class ClearForm(FlaskForm):
    """Show nothing, with an optional message for the room."""

    message = StringField(_l("Message for the room (optional)"), validators=[Optional(), Length(max=MESSAGE_MAX)],
                          description=_l("Shown in large type while nothing else is, such as “Back at 14:30”."))
    revision = HiddenField()


class ConsoleDecisionForm(FlaskForm):
    """The assembly's decision on the amendment shown, with its public reason."""

    decision = SelectField(_l("Decision"), choices=choices([("", _l("— choose —")), *CONSOLE_DECISIONS]),
                           validators=[DataRequired(message=_l("Choose a decision."))])
    reason = TextAreaField(_l("Public reason"), validators=[DataRequired(), Length(max=LIMITS["reason"])],
                           description=_l("Shown on the projector, the amendment page and in the log."))
    merged_into = StringField(_l("Merged into (code, e.g. A-007), for “merged”"),
                              validators=[Optional(), Length(max=20)])
    final_heading = StringField(_l("Final heading (for accept with modifications)"),
                                validators=[Optional(), Length(max=LIMITS["heading"])])
    final_body = TextAreaField(_l("Final text (for accept with modifications)"),
                               validators=[Optional(), Length(max=LIMITS["body"])])
    amendment_id = HiddenField()
    amendment_revision = HiddenField()
    revision = HiddenField()
