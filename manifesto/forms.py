"""Form helpers shared by every area."""

from __future__ import annotations

from collections.abc import Iterable

from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

from .services import ServiceError


def show_error(form: FlaskForm, error: ServiceError) -> None:
    """Put a service's error next to its field, or at the top of the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors"):
        # WTForms leaves errors as a tuple until validate() runs.
        field.errors = list(field.errors) + [error.message]
    else:
        form.form_errors.append(error.message)


def choices(pairs: Iterable[tuple[object, str]]) -> list[SelectChoice]:
    """Turn (value, label) pairs into select choices (WTForms 3.3 retired tuples)."""
    return [SelectChoice(value, label) for value, label in pairs]
