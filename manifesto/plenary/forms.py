"""Vote forms: opening a vote (moderators), the ballot, and checking a receipt."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..forms import choices
from .votes import ELIGIBLE_MAX, QUESTION_MAX

MAJORITIES = (
    ("simple", _l("Simple majority: more yes than half of the votes cast")),
    ("absolute", _l("Absolute majority: more yes than half of the eligible voters")),
    ("two_thirds", _l("Two thirds: yes at least two thirds of the votes cast")),
)
CHOICE_LABELS = {"yes": _l("Yes"), "no": _l("No"), "abstain": _l("Abstain")}


class OpenVoteForm(FlaskForm):
    """A moderator opens a vote on an amendment: the question and how the votes are counted."""

    question = TextAreaField(_l("Question"), validators=[DataRequired(), Length(max=QUESTION_MAX)],
                             description=_l("What the assembly answers with yes, no or abstain."))
    secret = RadioField(_l("Kind of vote"), choices=choices([
        ("named", _l("Named: the list of who voted how is published with the result; a vote may be changed "
                     "until the vote closes")),
        ("secret", _l("Secret: nobody can see who voted how; a vote is final once cast")),
    ]), default="named", validators=[DataRequired()])
    majority = RadioField(_l("Majority needed"), choices=choices(MAJORITIES), default="simple",
                          validators=[DataRequired()])
    abstentions_count = BooleanField(_l("Count abstentions among the votes cast (they then weigh like no)"))
    eligible = IntegerField(_l("Number of eligible voters (optional)"),
                            validators=[Optional(), NumberRange(min=0, max=ELIGIBLE_MAX)],
                            description=_l("Needed for an absolute majority or a quorum in percent."))
    quorum_votes = IntegerField(_l("Quorum: at least this many voters (optional)"),
                                validators=[Optional(), NumberRange(min=0, max=ELIGIBLE_MAX)])
    quorum_percent = IntegerField(_l("Quorum: at least this percentage of the eligible voters (optional)"),
                                  validators=[Optional(), NumberRange(min=0, max=100)])


class BallotForm(FlaskForm):
    """The ballot: yes, no or abstain."""

    choice = RadioField(_l("Your vote"), choices=choices(CHOICE_LABELS.items()),
                        validators=[DataRequired(message=_l("Choose yes, no or abstain."))])


class CloseVoteForm(FlaskForm):
    """A moderator closes the vote (the button is all it carries)."""


class ReceiptForm(FlaskForm):
    """Check a secret ballot by its receipt code."""

    code = StringField(_l("Receipt code"), validators=[DataRequired(), Length(max=60)],
                       description=_l("The code you were shown when you voted, such as 1A2B-3C4D-5E6F-7A8B-9C0D."))
