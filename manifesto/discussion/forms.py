"""Discussion forms. The services validate every value; the forms only carry them, and their labels."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField

from .models import COMMENT_LIMIT, QUOTE_LIMIT

BODY_HELP = (f"Markdown: *italics*, **bold**, [links](https://example.org), lists. "
             f"Up to {COMMENT_LIMIT:,} characters.")


class ReplyForm(FlaskForm):
    """A reply, or a comment on an amendment: just the text."""

    body = TextAreaField("Your comment", description=BODY_HELP)


class CommentForm(ReplyForm):
    """A comment on a section, optionally about a passage of it."""

    quote = TextAreaField(
        "Passage you are commenting on (optional)",
        description=("Copy the words from the section's text, or select them in the text above. "
                     f"Leave it empty to comment on the whole section. Up to {QUOTE_LIMIT:,} characters."))
    # Filled by the page's script from the words around the reader's selection, to tell repeats apart.
    quote_prefix = HiddenField()
    quote_suffix = HiddenField()


class EditCommentForm(FlaskForm):
    """An author changes their comment; ``revision`` catches edits made meanwhile."""

    body = TextAreaField("Your comment", description=BODY_HELP)
    revision = HiddenField()


class DeleteCommentForm(FlaskForm):
    """An author deletes their comment."""


class ReportForm(FlaskForm):
    """A participant tells the moderators what is wrong with a comment or an amendment."""

    reason = TextAreaField("What is wrong with it?",
                           description="Only the moderators see your report and its reason.")


class HideForm(FlaskForm):
    """A moderator hides an item with a public reason."""

    reason = TextAreaField("Public reason",
                           description="Shown to everyone in place of the hidden text, and in the activity log.")


class RestoreForm(FlaskForm):
    """A moderator shows a hidden item again."""

    reason = TextAreaField("Note (optional)", description="Recorded in the activity log.")


class DismissForm(FlaskForm):
    """A moderator dismisses the reports of an item."""

    reason = TextAreaField("Note (optional)", description="Why the item stays; recorded with the reports.")


class SuspendForm(FlaskForm):
    """An admin suspends a participant's account from the queue."""

    reason = TextAreaField("Reason for the suspension",
                           description="Recorded in the audit trail. The person is logged out at once.")
