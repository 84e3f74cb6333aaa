"""Every refusal of the API in one shape: RFC 9457 problem details (``application/problem+json``).

The services refuse as they do for the pages (``NotFound``, ``PermissionDenied``,
``ValidationError``, ``ConflictError``), with the same messages in the reader's
language; :func:`init_app` turns each, and what fails beneath the views (an
HTTP error, a rate limit, the database), into one answer::

    {"type": "/api/docs#problem-validation", "title": "Check the fields marked.",
     "status": 422, "detail": "...", "errors": [{"field": "body", "message": "..."}]}

Statuses: 400 a malformed request (JSON that does not parse, a damaged
address), 401 no usable token, 403 not allowed (or a token without the
scope), 404, 405, 409 a stale ``revision`` or ``base_version`` (someone
changed it first), 412 a stale ``If-Match``, 413 too big, 415 not JSON,
422 a field is wrong (the schema's checks and the services' alike, by
field), 429 too many requests, 503 the database could not answer.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, current_app, g, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as SchemaError
from sqlalchemy import exc
from werkzeug.exceptions import HTTPException

from .. import errors, metrics
from ..database import discard_session, is_database_failure
from ..services import ConflictError, DatabaseUnavailable, NotFound, PermissionDenied, ServiceError, ValidationError

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
# The reference page's anchors name each problem type (relative URIs, resolved against the API's address).
TYPE_BASE = "/api/docs#problem-"

# Short titles by status, for the document and for HTTP errors that carry no message of ours.
TITLES = {
    204: "No content", 304: "Not modified: the ETag you sent is still current",
    400: "Bad request", 401: "No usable token", 403: "Not allowed", 404: "Not found", 405: "Method not allowed",
    406: "Not acceptable", 409: "Conflict: someone changed it first", 412: "Precondition failed (If-Match)",
    413: "Body too large", 415: "Unsupported media type", 422: "A field is wrong", 429: "Too many requests",
    500: "Server error", 503: "Service unavailable",
}
_READER_TITLES = {
    400: _l("The request could not be read."), 401: _l("Send a valid API token."), 403: _l("You may not do this."),
    404: _l("Not found."), 405: _l("This address does not take this method."), 406: _l("Only JSON is answered here."),
    409: _l("Someone else changed this first."), 412: _l("Someone else changed this first."),
    413: _l("The body is too large."), 415: _l("Send the body as JSON."), 422: _l("Check the fields marked."),
    429: _l("Too many requests."), 500: _l("Something went wrong on our side."),
    503: _l("The service is busy or down; try again shortly."),
}
_TYPES = {400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
          406: "not-acceptable", 409: "conflict", 412: "precondition-failed", 413: "too-large",
          415: "unsupported-media-type", 422: "validation", 429: "rate-limited", 500: "server-error",
          503: "unavailable"}


class FieldError(BaseModel):
    """One wrong field: where (``body.heading``, ``query.page`` or the service's field name) and why."""

    model_config = ConfigDict(extra="forbid")

    field: str = Field(description="The field, as the body or query names it.")
    message: str = Field(description="What is wrong, in the reader's language (Accept-Language).")


class ProblemDetails(BaseModel):
    """RFC 9457 problem details: every refusal of the API."""

    model_config = ConfigDict(extra="forbid", title="Problem")

    type: str = Field(description="A URI naming the kind of problem; its anchor on /api/docs explains it.")
    title: str = Field(description="A short summary of the kind of problem, in the reader's language.")
    status: int = Field(ge=100, le=599)
    detail: str = Field(description="What went wrong this time, the message the web form would show.")
    errors: list[FieldError] = Field(default_factory=list, description="Each wrong field (422).")
    current_revision: int | None = Field(default=None, description="With 409: the revision to base a change on.")


class Problem(Exception):
    """A refusal the API answers with problem details (raised by the checks, or made from a service's)."""

    def __init__(self, status: int, kind: str | None = None, title: str | None = None, detail: str | None = None,
                 *, errors: list[dict[str, str]] | None = None, headers: dict[str, str] | None = None,
                 current_revision: int | None = None):
        super().__init__(detail or title or str(status))
        self.status = status
        self.kind = kind or _TYPES.get(status, "problem")
        self.title = title or str(_READER_TITLES.get(status, TITLES.get(status, "Error")))
        self.detail = detail or self.title
        self.errors = errors or []
        self.headers = headers or {}
        self.current_revision = current_revision

    def response(self) -> Response:
        """The problem as an ``application/problem+json`` answer."""
        body = ProblemDetails(type=TYPE_BASE + self.kind, title=self.title, status=self.status, detail=self.detail,
                              errors=[FieldError(**item) for item in self.errors],
                              current_revision=self.current_revision)
        response = Response(body.model_dump_json(), status=self.status, mimetype=PROBLEM_JSON)
        response.headers.update(self.headers)
        response.headers["Cache-Control"] = "no-store"
        response.vary.update(("Authorization", "Accept-Language"))
        return response


# ------------------------------------------------------------------ schema errors, in the reader's language

def _message(item: dict[str, Any]) -> str:
    """A schema error as the web forms would say it."""
    kind, ctx = item["type"], item.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind == "extra_forbidden":
        return _("This field is not known here; leave it out.")
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return _("Must be a whole number.")
    if kind in ("string_type",):
        return _("Must be text.")
    if kind in ("bool_type", "bool_parsing"):
        return _("Must be true or false.")
    if kind in ("list_type",):
        return _("Must be a list.")
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return _("Must be an object.")
    if kind == "enum" or kind == "literal_error":
        return _("Must be one of: %(choices)s.", choices=str(ctx.get("expected", "")).replace("'", ""))
    if kind == "greater_than_equal":
        return _("Must be at least %(limit)s.", limit=ctx.get("ge"))
    if kind == "less_than_equal":
        return _("Must be at most %(limit)s.", limit=ctx.get("le"))
    if kind == "string_too_long":
        return _("Must be at most %(limit)s characters.", limit=ctx.get("max_length"))
    if kind == "string_too_short":
        return _("Must be at least %(limit)s characters.", limit=ctx.get("min_length"))
    if kind == "too_long":
        return _("Must have at most %(limit)s items.", limit=ctx.get("max_length"))
    if kind in ("datetime_type", "datetime_parsing", "datetime_from_date_parsing"):
        return _("Must be a date and time such as 2026-12-31T18:00:00Z.")
    if kind == "string_pattern_mismatch":
        return _("This value has the wrong form.")
    return _("This value is not valid here.")


def invalid(error: SchemaError, *, where: str) -> Problem:
    """A 422 naming every wrong field of the body or the query."""
    found = []
    for item in error.errors():
        path = ".".join(str(part) for part in item["loc"]) or where
        found.append({"field": path, "message": _message(item)})
    return Problem(422, "validation", detail=found[0]["message"] if len(found) == 1 else
                   _("%(count)d fields need attention.", count=len(found)), errors=found)


def too_large(limit: int) -> Problem:
    """A 413 saying how big a body may be."""
    return Problem(413, "too-large", detail=_("The body may be at most %(limit)d bytes.", limit=limit))


# ------------------------------------------------------------------ from the services and beneath

def from_service(error: ServiceError) -> Problem:
    """A service's refusal, its message and field kept: 404, 403, 422 by field, 409 with the current revision."""
    if isinstance(error, NotFound):
        return Problem(404, "not-found", detail=error.message)
    if isinstance(error, PermissionDenied):
        return Problem(403, "forbidden", detail=error.message)
    if isinstance(error, ConflictError):
        current = getattr(error.current, "revision", None) if error.current is not None else None
        return Problem(409, "conflict", detail=error.message,
                       errors=[{"field": error.field, "message": error.message}] if error.field else [],
                       current_revision=current if isinstance(current, int) else None)
    if isinstance(error, ValidationError):
        return Problem(422, "validation", detail=error.message,
                       errors=[{"field": error.field, "message": error.message}] if error.field else [])
    return Problem(error.status, detail=error.message)


def handle_problem(error: Problem) -> Response:
    """Answer a raised problem."""
    return error.response()


def handle_service_error(error: ServiceError) -> Response:
    """Answer a service's refusal."""
    return from_service(error).response()


def handle_http_error(error: HTTPException) -> Response:
    """Answer an HTTP error (404 for an unknown address, 405, 413...) as problem details."""
    code = error.code or 500
    if code == 413:
        return too_large(int(current_app.config["API_MAX_BODY"])).response()
    detail = error.description if error.description != type(error).description else None
    headers = {}
    if code == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)
    return Problem(code, detail=detail, headers=headers).response()


def handle_database_error(error: Exception) -> Response:
    """503 when the database is down, too slow or too busy (other database errors stay 500s)."""
    if not is_database_failure(error):
        raise error
    reason, _saved = errors.database_failure(error)
    metrics.database_error(reason)
    g.database_down = True
    discard_session()
    log.warning("Database %s on API %s %s", reason, request.method,
                request.url_rule.rule if request.url_rule else "(unmatched)")
    return Problem(503, "unavailable", headers={"Retry-After": str(errors.RETRY_AFTER[reason])}).response()


def handle_unexpected(error: Exception) -> Response:
    """A bug: logged with its trace, answered as problem details (500), never an HTML page."""
    if isinstance(error, HTTPException):
        return handle_http_error(error)
    if current_app.testing and current_app.config.get("API_RAISE_UNEXPECTED", True):
        raise error
    log.exception("Unexpected error on API %s %s", request.method, request.path)
    return Problem(500, "server-error").response()


def register(bp: Blueprint) -> None:
    """Register the problem answers on the API's blueprint (once, when it is made)."""
    bp.register_error_handler(Problem, handle_problem)
    bp.register_error_handler(ServiceError, handle_service_error)
    bp.register_error_handler(HTTPException, handle_http_error)
    for kind in (DatabaseUnavailable, exc.OperationalError, exc.InterfaceError, exc.TimeoutError,
                 exc.PendingRollbackError, exc.DBAPIError):
        bp.register_error_handler(kind, handle_database_error)
    bp.register_error_handler(Exception, handle_unexpected)

