"""Discussion forms. The services validate every value; the forms only carry them, and their labels.

Labels and help texts are lazy (``_l``): they are read in the reader's language when a page shows them.
"""

from flask_babel import LazyString, format_number
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField

from .models import COMMENT_LIMIT, QUOTE_LIMIT

# The limits as the reader writes numbers ("20,000", "20 000", "20.000"), formatted when shown.
_COMMENT_LIMIT = LazyString(lambda: format_number(COMMENT_LIMIT))
_QUOTE_LIMIT = LazyString(lambda: format_number(QUOTE_LIMIT))

BODY_HELP = _l("Markdown: *italics*, **bold**, [links](https://example.org), lists. "
               "Up to %(limit)s characters.", limit=_COMMENT_LIMIT)


class ReplyForm(FlaskForm):
    """A reply, or a comment on an amendment: just the text."""

    body = TextAreaField(_l("Your comment"), description=BODY_HELP)


class CommentForm(ReplyForm):
    """A comment on a section, optionally about a passage of it."""

    quote = TextAreaField(
        _l("Passage you are commenting on (optional)"),
        description=_l("Copy the words from the section's text, or select them in the text above. "
                       "Leave it empty to comment on the whole section. Up to %(limit)s characters.",
                       limit=_QUOTE_LIMIT))
    # Filled by the page's script from the words around the reader's selection, to tell repeats apart.
    quote_prefix = HiddenField()
    quote_suffix = HiddenField()


class EditCommentForm(FlaskForm):
    """An author changes their comment; ``revision`` catches edits made meanwhile."""

    body = TextAreaField(_l("Your comment"), description=BODY_HELP)
    revision = HiddenField()


class DeleteCommentForm(FlaskForm):
    """An author deletes their comment."""


class ReportForm(FlaskForm):
    """A participant tells the moderators what is wrong with a comment or an amendment."""

    reason = TextAreaField(_l("What is wrong with it?"),
                           description=_l("Only the moderators see your report and its reason."))


class HideForm(FlaskForm):
    """A moderator hides an item with a public reason."""

    reason = TextAreaField(_l("Public reason"),
                           description=_l("Shown to everyone in place of the hidden text, and in the activity log."))


class RestoreForm(FlaskForm):
    """A moderator shows a hidden item again."""

    reason = TextAreaField(_l("Note (optional)"), description=_l("Recorded in the activity log."))


class DismissForm(FlaskForm):
    """A moderator dismisses the reports of an item."""

    reason = TextAreaField(_l("Note (optional)"), description=_l("Why the item stays; recorded with the reports."))


class SuspendForm(FlaskForm):
    """An admin suspends a participant's account from the queue."""

    reason = TextAreaField(_l("Reason for the suspension"),
                           description=_l("Recorded in the audit trail. The person is logged out at once."))
