"""Notification forms: the delivery settings, and the small forms behind the buttons."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField
from wtforms.validators import InputRequired

from ..forms import choices
from .kinds import DELIVERY_LABELS, KINDS
from .models import Delivery


class SettingsForm(FlaskForm):
    """For each kind of notification: immediate email, the daily digest, or in-app only."""

    @property
    def kind_fields(self):
        """The radio groups, one per kind, in the settings page's order."""
        return [self[name] for name in KINDS]

    def choices_made(self) -> dict[str, str]:
        """The chosen delivery per kind."""
        return {name: self[name].data for name in KINDS}


for _kind in KINDS.values():
    setattr(SettingsForm, _kind.name, RadioField(
        _kind.label, choices=choices((d.value, DELIVERY_LABELS[d]) for d in Delivery),
        validators=[InputRequired(message=_l("Choose one of the three ways."))]))


class FollowForm(FlaskForm):
    """Follow or unfollow a section or an amendment."""

    target = HiddenField()
    target_id = HiddenField()
    action = HiddenField()


class MarkAllReadForm(FlaskForm):
    """Mark every notification read, up to the newest one the page showed."""

    up_to = HiddenField()
