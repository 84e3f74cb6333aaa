"""The webhook forms. Their rules (the URL's address, the events, the description) are the service's."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectMultipleField, StringField
from wtforms.widgets import CheckboxInput, ListWidget

from ...forms import choices
from .events import EVENTS


class EventsField(SelectMultipleField):
    """The event types as checkboxes, one per type."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form) -> None:
        """Leave the choice to the service: it names an unknown type in its own words, by this field."""


class WebhookForm(FlaskForm):
    """Add or edit a webhook: where to send, what for, and which events.

    No rules here: ``services.clean_url`` and ``clean_events`` check them and
    their messages go by their field (``web.refusals``).
    """

    url = StringField(_l("Receiver's address (URL)"),
                      description=_l("An https:// address on the Internet that accepts POST requests. Addresses "
                                     "inside the server's own network are refused."))
    description = StringField(_l("Description (optional)"),
                              description=_l("What receives the events, so other admins know: for example "
                                             "“Our newsletter's site”."))
    all_events = BooleanField(_l("Every event, including those added later"), default=True)
    events = EventsField(_l("Or only these events"), choices=choices(EVENTS.items()))
    revision = HiddenField()


class ButtonForm(FlaskForm):
    """A button that changes a webhook or sends a delivery (its CSRF token is all it carries)."""
