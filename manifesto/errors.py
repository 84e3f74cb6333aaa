"""Error pages, and the "send again" form that hands a refused form's text back.

The handlers here answer what went wrong below the views: a missing or stale
CSRF token (400), an HTTP error raised with ``abort`` (its page), and a
database that is down, too slow or too busy (503, a page that never reads
it). :func:`resend_form` is what every page that hands a form back uses:
these, and the refusal pages of :mod:`manifesto.web`. Registered by
``web.init_app``; this module imports no area.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from types import CodeType
from typing import Any

from flask import current_app, g, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from psycopg import errors as pg_errors
from sqlalchemy import exc
from werkzeug.exceptions import HTTPException

from . import metrics
from .database import changes_saved, discard_session, is_database_failure
from .services import DatabaseUnavailable, ServiceError

log = logging.getLogger(__name__)

# Fields never echoed back on the "send again" page.
_SECRET_FIELDS = {"csrf_token", "password", "confirm", "current_password", "new_password"}
# What the "send again" page calls a password field when the form class is unknown (lazy: the reader's language).
_SECRET_LABELS = {"password": _l("Password"), "confirm": _l("Repeat the password"),
                  "current_password": _l("Current password"), "new_password": _l("New password")}
# Fields the user never typed: sent again as they were, but not shown.
_TECHNICAL_FIELDS = {"action", "kind", "section_id", "base_version_id", "base_version", "revision",
                     "structure_version", "next", "to_number", "direction", "active", "after", "decision"}
# How the real templates draw long text fields, by (form class, field): rows and CSS class. Others get rows
# by the length of the text, as a plain textarea.
_TEXTAREAS = {
    ("ProposalForm", "body"): (18, "editor"),
    ("SectionForm", "body"): (18, "editor"),
    ("DecisionForm", "final_body"): (14, "editor"),
}
# Fields that take a choice: sent again hidden, their choice shown as text when the form names it (a view may
# set the choices, then only the value is known).
_CHOICE_TYPES = {"SelectField", "RadioField", "SelectMultipleField"}
# Seconds a client should wait before trying again, by why the database failed.
RETRY_AFTER = {"busy": 5, "timeout": 15, "unreachable": 30}
# PostgreSQL SQLSTATEs that mean "too many at once" (serialization failure,
# deadlock) and "waited too long" (statement timeout, lock not available).
_BUSY_SQLSTATES = {"40001", "40P01"}
_TIMEOUT_SQLSTATES = {"57014", "55P03"}


def resend_form(refusal: ServiceError | None = None) -> dict:
    """Everything the user sent, ready for a fresh form to the same address.

    Typed fields are shown in text boxes, fields the user never typed travel
    hidden, and secrets (passwords, the CSRF token) are never echoed: the
    form asks for the passwords again instead. Used by every page that hands
    a form back: a stale CSRF token, a database that could not take it.
    When the form class of the address is known (see :func:`_posted_form`),
    its fields keep their own labels, help and widgets, in its order.
    A service's ``refusal`` is shown by the field it names, else above the
    form (``message``).
    """
    names = list(dict.fromkeys(request.form.keys()))
    sent = [(name, value) for name, value in request.form.items(multi=True) if name not in _SECRET_FIELDS]
    form = _posted_form(names)
    fields: list[dict] = []
    hidden = [(name, value) for name, value in sent if name in _TECHNICAL_FIELDS]
    passwords = [(name, str(_SECRET_LABELS.get(name, name)))
                 for name in names if name in _SECRET_FIELDS and name != "csrf_token"]
    if form is None:
        fields = [{"field": None, "name": name, "value": value} for name, value in sent
                  if name not in _TECHNICAL_FIELDS]
    else:
        by_name = {field.name: field for field in form}
        passwords = [(name, str(by_name[name].label.text) if name in by_name else label) for name, label in passwords]
        hidden = []
        shown: set[str] = set()
        for field in form:
            if field.name not in names or field.name in _SECRET_FIELDS:
                continue
            shown.add(field.name)
            values = [value for name, value in sent if name == field.name]
            if field.type in _CHOICE_TYPES:
                choices = _choice_labels(field.choices)
                hidden.extend((field.name, value) for value in values)
                if values and all(value in choices for value in values):  # a choice people read, not an id
                    fields.append({"choice": field, "shown": ", ".join(choices[value] for value in values)})
            elif field.type == "HiddenField" or (field.name in _TECHNICAL_FIELDS and field.type != "TextAreaField"):
                hidden.extend((field.name, value) for value in values)
            else:
                rows, css = _textarea_look(form, field.name, values[0] if values else "")
                fields.append({"field": field, "rows": rows if field.type == "TextAreaField" else None,
                               "class": css if field.type == "TextAreaField" else None})
        for name, value in sent:  # anything the form does not know: as before
            if name not in shown:
                if name in _TECHNICAL_FIELDS:
                    hidden.append((name, value))
                else:
                    fields.append({"field": None, "name": name, "value": value})
    return {
        "action": request.full_path.rstrip("?"),
        "fields": fields,
        "hidden": hidden,
        "passwords": passwords,
        "message": _place_refusal(fields, refusal) if refusal is not None else None,
    }


def _place_refusal(fields: list[dict], refusal: ServiceError) -> str | None:
    """Put a refusal's message by the field it names; return it when no shown field takes it (the page shows it)."""
    for item in fields:
        field = item.get("field")
        if refusal.field and field is not None and field.name == refusal.field:
            # WTForms leaves errors as a tuple until validate() runs.
            field.errors = list(field.errors) + [refusal.message]
            return None
        if refusal.field and field is None and item.get("name") == refusal.field:
            item["error"] = refusal.message
            return None
    return refusal.message


def _choice_labels(choices) -> dict[str, str]:
    """A choice field's labels by value (empty when its view sets the choices)."""
    if not choices or callable(choices) or isinstance(choices, dict):
        return {}
    labels = {}
    for choice in choices:
        value, label = tuple(choice)[:2] if not isinstance(choice, str) else (choice, choice)
        labels[str(value)] = str(label)
    return labels


def _textarea_look(form: FlaskForm, name: str, value: str) -> tuple[int, str | None]:
    """Rows and CSS class the real template gives a text area (by form class, parents included)."""
    for cls in type(form).__mro__:
        if (cls.__name__, name) in _TEXTAREAS:
            return _TEXTAREAS[(cls.__name__, name)]
    return (8 if len(value) > 200 else 3), None


def _code_names(code: CodeType) -> set[str]:
    """The global names a function's code (and the functions defined inside it) refers to."""
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, CodeType):
            names |= _code_names(constant)
    return names


def _posted_form(sent: list[str]) -> FlaskForm | None:
    """The form of the view the request was sent to, filled with what was sent, or None when unknown.

    Every view that takes a form builds it by name (``form = ProposalForm()``),
    so the view function's code names its form class: of those, the one that
    knows most of the sent fields. No registry to keep in step with the views.
    """
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None:
        return None
    view = inspect.unwrap(view)
    code = getattr(view, "__code__", None)
    if code is None:
        return None
    candidates = []
    for name in sorted(_code_names(code)):
        obj = getattr(view, "__globals__", {}).get(name)
        # type(), not isinstance(): a proxy such as current_user would load the user to answer isinstance.
        if issubclass(type(obj), type) and issubclass(obj, FlaskForm):
            candidates.append(obj)
    best, best_score = None, 0
    for form_class in candidates:
        try:
            form = form_class(formdata=request.form, meta={"csrf": False})
        except Exception:  # a form that needs arguments of its view: fall back to plain text boxes
            log.debug("Cannot rebuild %s for the send-again page", form_class.__name__, exc_info=True)
            continue
        score = sum(1 for field in form if field.name in sent and field.name not in _SECRET_FIELDS)
        if score > best_score:
            best, best_score = form, score
    return best


def handle_csrf_error(error: CSRFError):
    """Keep the user's text when a form's token is missing or stale (for example an expired session).

    The page shows what was sent, in a fresh form that goes to the same place.
    """
    g.error_page = True
    return render_template("errors/csrf.html", resend=resend_form(), reason=error.description), 400


def database_failure(error: BaseException) -> tuple[str, bool]:
    """Say why the database failed: ("busy" | "timeout" | "unreachable", whether the change may be saved)."""
    if isinstance(error, DatabaseUnavailable):
        return error.reason, error.maybe_saved
    if isinstance(error, exc.TimeoutError):  # every connection of the pool is in use
        return "busy", False
    orig = getattr(error, "orig", None)
    sqlstate = getattr(orig, "sqlstate", None)
    sqlite_error = getattr(orig, "sqlite_errorname", None) or ""
    if sqlstate in _BUSY_SQLSTATES or sqlite_error.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return "busy", False
    if sqlstate in _TIMEOUT_SQLSTATES or isinstance(orig, pg_errors.ConnectionTimeout):
        return "timeout", False
    return "unreachable", False


def handle_database_error(error: Exception):
    """Answer 503 when the database is down, too slow or too busy, with a page that never reads it.

    The session is thrown away first and ``g.database_down`` tells the page
    header not to look up the logged-in user. A POST gets everything the user
    sent back in a form to send again, unless its change was already committed
    (the database failed on the way to the next page): then it says so.

    :raises: ``error`` again when it is a database error that is not a failure
        of the database (a constraint, a bug): that stays a 500.
    """
    if not is_database_failure(error):
        raise error
    reason, maybe_saved = database_failure(error)
    metrics.database_error(reason)
    # A service may have committed before the view failed to read what comes next.
    saved = changes_saved()
    g.database_down = True
    discard_session()
    # The driver's message only: SQLAlchemy's would add the statement's parameters (texts, password hashes).
    # The route, not the path: a path may hold a token (unsubscribe links).
    route = request.url_rule.rule if request.url_rule else "(unmatched)"
    log.warning("Database %s on %s %s: %s", reason, request.method, route, getattr(error, "orig", None) or error)
    resend = resend_form() if request.method == "POST" and not saved else None
    page = render_template("errors/503.html", reason=reason, maybe_saved=maybe_saved, saved=saved, resend=resend,
                           again=request.full_path.rstrip("?"))
    return page, 503, {"Retry-After": str(RETRY_AFTER[reason])}


# Addresses answered in another form than a page (the JSON API), by path prefix: handler(error) -> response.
_elsewhere: dict[str, Callable[[HTTPException], Any]] = {}


def answer_elsewhere(prefix: str, handler: Callable[[HTTPException], Any]) -> None:
    """Let an area answer the HTTP errors of the addresses under ``prefix`` that match none of its views."""
    _elsewhere[prefix] = handler


def handle_http_error(error: HTTPException):
    """Render a readable page for 4xx/5xx errors raised with abort()."""
    for prefix, handler in _elsewhere.items():
        if request.path.startswith(prefix):
            return handler(error)
    g.error_page = True
    code = error.code or 500
    template = f"errors/{code}.html" if code in (400, 403, 404, 405, 409, 413) else "errors/generic.html"
    # Werkzeug's own descriptions are English only: the page then says its own, translated text.
    description = error.description if error.description != type(error).description else None
    return render_template(template, error=error, description=description), code
