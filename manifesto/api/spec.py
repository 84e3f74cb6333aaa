"""The API's one description: every operation declared once, and from that one declaration checked and described.

An API view is declared with :func:`operation`: its method and address, the
pydantic models of its query, body and answer, the token scope it needs and
the refusals it may answer with. From that declaration alone:

- the request is checked before the view runs: the token and its scope
  (``auth.py``), the query (422 by field), the body (415 when it is not
  JSON, 400 when it does not parse, 413 when too big, 422 by field: a
  wrong type, a missing or an unknown field, a number out of range);
- the answer is serialised through its model, with its ``ETag`` and a 304
  for ``If-None-Match`` when the view names the state it shows;
- the OpenAPI 3.1 document (:func:`openapi_document`) describes exactly
  that: the same models give its schemas (pydantic writes JSON Schema
  2020-12, the dialect of OpenAPI 3.1, so nothing is translated) and every
  status an operation may answer is listed, so that a client, and
  Schemathesis, can rely on it.

Why pydantic and not flask-smorest or APIFlask: the models that check the
input are the schemas of the document (no second copy to drift), its JSON
Schema is OpenAPI 3.1's own dialect (apispec writes 3.0 shapes), and it works
on plain Flask blueprints, leaving the error answers to ``problems.py``
instead of a library's own shape. This module is the small registry between
the two; the views stay as thin as the pages' views.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from flask import Blueprint, Response, current_app, g, request
from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as SchemaError
from pydantic.json_schema import models_json_schema

from ..services import MAX_ID
from . import auth, problems

PREFIX = "/api/v1"
JSON = "application/json"

# Numbers every model uses: bounded, so that no number reaches the database that a column cannot hold.
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Count = Annotated[int, Field(ge=0, le=MAX_ID)]
PageNumber = Annotated[int, Field(ge=1, le=100000, description="The page, from 1.")]


class Model(BaseModel):
    """What every answer's model shares: names as written, nothing else."""

    model_config = ConfigDict(extra="forbid", populate_by_name=False)


class Input(BaseModel):
    """A request body: strict types (a number is a number, not the string "5"), and no unknown field."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=False)


class Query(BaseModel):
    """A query string: read from text (``?page=2``); unknown arguments are ignored, as a page's are."""

    model_config = ConfigDict(extra="ignore")


@dataclass
class Reply:
    """What a view answers when more than its model: a status, headers, and the validator of what it shows.

    ``etag``: the parts the answer depends on (content states, the reader's
    variant...); the ``ETag`` is a hash of them, and a GET whose
    ``If-None-Match`` names it gets 304 without the body being serialised.
    ``body`` may be None (204) and may be a callable giving the model, so
    that a 304 costs only the reading of the state.
    """

    body: Model | Callable[[], Model] | None = None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    etag: tuple | None = None


@dataclass(frozen=True)
class Operation:
    """One declared operation: everything the checks, the answer and the document need."""

    endpoint: str
    method: str
    rule: str
    summary: str
    description: str
    tag: str
    query: type[Query] | None
    body: type[Input] | None
    response: type[Model] | None
    status: int
    scope: str | None
    login: bool
    errors: tuple[int, ...]
    conditional: bool

    @property
    def path(self) -> str:
        """The OpenAPI path: ``/api/v1/documents/{slug}`` for the rule ``/documents/<slug>``."""
        return PREFIX + re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", self.rule)

    @property
    def path_parameters(self) -> list[tuple[str, str]]:
        """The address's parameters with their converter: [("slug", "string"), ("amendment_id", "int")]."""
        return [(name, converter or "string") for converter, name in re.findall(r"<(?:([a-z]+):)?([a-z_]+)>", self.rule)]


OPERATIONS: list[Operation] = []


def operation(bp: Blueprint, method: str, rule: str, *, summary: str, tag: str, response: type[Model] | None = None,
              status: int = 200, query: type[Query] | None = None, body: type[Input] | None = None,
              scope: str | None = None, login: bool = False, errors: tuple[int, ...] = (),
              conditional: bool = False, description: str | None = None):
    """Declare an API view: route it on ``bp``, check its requests, serialise its answers, describe it.

    ``scope``: the token scope the operation needs (``read`` for reading as
    oneself; a visitor without a token reads what visitors read). ``login``:
    a token is required (writes). ``errors``: the refusals the view's
    services may answer with besides those every operation has (400, 401,
    403 with a scope, 404 with a path parameter, 413/415/422 with a body,
    422 for any write, 429, 503). ``conditional``: a GET answers 304 to ``If-None-Match``, a
    write refuses a stale ``If-Match`` with 412.
    The view is called with the path's parameters, plus ``query=`` and
    ``body=`` (the validated models) when declared; it returns its model, a
    :class:`Reply`, or None (204).
    """
    method = method.upper()

    def decorate(view: Callable[..., Any]) -> Callable[..., Response]:
        op = Operation(
            endpoint=f"{bp.name}.{view.__name__}", method=method, rule=rule, summary=summary,
            description=description or (view.__doc__ or summary).strip(), tag=tag, query=query, body=body,
            response=response, status=status, scope=scope, login=login or method not in ("GET", "HEAD"),
            errors=tuple(errors), conditional=conditional)
        OPERATIONS.append(op)

        @functools.wraps(view)
        def run(**path_args: Any) -> Response:
            g.api_operation = op
            auth.require(op.scope, login=op.login)
            kwargs = dict(path_args)
            if query is not None:
                kwargs["query"] = read_query(query)
            if body is not None:
                kwargs["body"] = read_body(body)
            return answer(view(**kwargs), op)

        bp.add_url_rule(rule, view.__name__, run, methods=[method])
        return run

    return decorate


# ------------------------------------------------------------------ reading the request

def read_query(model: type[Query]) -> Query:
    """The query string, checked by ``model``.

    :raises problems.Problem: 422 with each wrong argument by its name.
    """
    values = {key: request.args.get(key) for key in request.args if key in model.model_fields}
    try:
        return model.model_validate(values)
    except SchemaError as error:
        raise problems.invalid(error, where="query") from None


def read_body(model: type[Input]) -> Input:
    """The JSON body, checked by ``model``.

    :raises problems.Problem: 413 when too big, 415 when not JSON, 400 when it does not parse,
        422 with each wrong field by its name.
    """
    limit = int(current_app.config["API_MAX_BODY"])
    if request.content_length is not None and request.content_length > limit:
        raise problems.too_large(limit)
    if request.mimetype != JSON and not request.mimetype.endswith("+json"):
        raise problems.Problem(415, "unsupported-media-type", _("Send the body as JSON."),
                               _("The body must be JSON, sent with Content-Type: application/json."))
    data = request.stream.read(limit + 1)
    if len(data) > limit:
        raise problems.too_large(limit)
    try:
        return model.model_validate_json(data or b"")
    except SchemaError as error:
        if any(item["type"] == "json_invalid" for item in error.errors()):
            raise problems.Problem(400, "invalid-json", _("The body is not valid JSON."),
                                   _("The body could not be read as JSON.")) from None
        raise problems.invalid(error, where="body") from None


# ------------------------------------------------------------------ the answer

def etag_value(parts: tuple) -> str:
    """A strong validator for an answer depending on ``parts`` (byte for byte the same JSON while they hold)."""
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()[:32]


def check_if_match(current: tuple) -> None:
    """Refuse a write whose ``If-Match`` names another state of the resource than ``current`` (412).

    Without ``If-Match`` the write goes on (the body's ``revision`` still guards it, 409).

    :raises problems.Problem: 412.
    """
    if not request.if_match or request.if_match.star_tag:
        return
    if not request.if_match.contains(etag_value(current)):
        raise problems.Problem(412, "precondition-failed", _("Someone else changed this first."),
                               _("The resource changed since you read it (If-Match does not name its current "
                                 "ETag). Read it again and send your change again."))


def answer(result: Any, op: Operation) -> Response:
    """Serialise a view's result through the operation's model, with its validators and caching policy."""
    reply = result if isinstance(result, Reply) else Reply(body=result)
    status = reply.status or op.status
    headers = dict(reply.headers)
    tag = etag_value(reply.etag) if reply.etag is not None else None
    personal = g.get("api_token") is not None
    if tag is not None and request.method in ("GET", "HEAD") and request.if_none_match.contains(tag):
        response = Response(status=304)
    else:
        body = reply.body() if callable(reply.body) else reply.body
        if body is None:
            response = Response(status=204 if status == 200 else status)
        else:
            response = Response(body.model_dump_json(by_alias=True), status=status, mimetype=JSON)
    response.headers.update(headers)
    if tag is not None:
        response.set_etag(tag)
    if request.method in ("GET", "HEAD"):
        response.headers["Cache-Control"] = "private, no-cache" if personal else "public, no-cache"
    else:
        response.headers["Cache-Control"] = "no-store"
    response.vary.update(("Authorization", "Accept-Language"))
    return response


# ------------------------------------------------------------------ the OpenAPI document

def _statuses(op: Operation) -> list[int]:
    """Every status the operation may answer with, as the checks and its services give them."""
    found = {op.status, 400, 429, 503, *op.errors}
    if op.login or op.scope:
        found |= {401, 403}
    if op.path_parameters:
        found.add(404)
    if op.query is not None:
        found.add(422)
    if op.body is not None:
        found |= {413, 415, 422}
    if op.method not in ("GET", "HEAD"):
        found.add(422)  # every write's service may refuse with a ValidationError (a field, or the state)
    if op.conditional:
        found.add(304 if op.method in ("GET", "HEAD") else 412)
    return sorted(found)


_PATH_SCHEMAS = {
    "int": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    "string": {"type": "string", "minLength": 1, "maxLength": 200},
}


def openapi_document(info: dict[str, Any], problem_url: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every declared operation, its schemas made by the models themselves."""
    models: list[tuple[type[BaseModel], str]] = [(problems.ProblemDetails, "serialization")]
    for op in OPERATIONS:
        if op.response is not None:
            models.append((op.response, "serialization"))
        if op.body is not None:
            models.append((op.body, "validation"))
        if op.query is not None:
            models.append((op.query, "validation"))
    unique = list(dict.fromkeys(models))
    refs, definitions = models_json_schema(unique, ref_template="#/components/schemas/{model}")
    schemas = definitions.get("$defs", {})
    problem_ref = refs[(problems.ProblemDetails, "serialization")]
    paths: dict[str, dict[str, Any]] = {}
    for op in sorted(OPERATIONS, key=lambda o: (o.path, o.method)):
        parameters = [{"name": name, "in": "path", "required": True, "schema": _PATH_SCHEMAS.get(kind, _PATH_SCHEMAS["string"])}
                      for name, kind in op.path_parameters]
        if op.query is not None:
            query_schema = schemas[refs[(op.query, "validation")]["$ref"].rsplit("/", 1)[1]]
            required = set(query_schema.get("required", []))
            for name, prop in query_schema.get("properties", {}).items():
                parameter = {"name": name, "in": "query", "required": name in required, "schema": prop}
                if "description" in prop:
                    parameter["description"] = prop["description"]
                parameters.append(parameter)
        responses: dict[str, Any] = {}
        for status in _statuses(op):
            if status == op.status and op.response is not None:
                responses[str(status)] = {"description": op.summary, "content": {
                    JSON: {"schema": refs[(op.response, "serialization")]}}}
                if op.conditional and op.method == "GET":
                    responses[str(status)]["headers"] = {"ETag": {"schema": {"type": "string"},
                                                                  "description": "The state this answer shows."}}
            elif status in (204, 304) or (status == op.status and op.response is None):
                responses[str(status)] = {"description": problems.TITLES.get(status, "No content")}
            else:
                responses[str(status)] = {"description": problems.TITLES.get(status, "Refused"), "content": {
                    problems.PROBLEM_JSON: {"schema": problem_ref}}}
        entry: dict[str, Any] = {
            "operationId": op.endpoint.rsplit(".", 1)[1], "summary": op.summary, "description": op.description,
            "tags": [op.tag], "parameters": parameters, "responses": responses,
            "security": [{"bearerAuth": [op.scope] if op.scope else []}] if op.login
            else [{}, {"bearerAuth": [op.scope] if op.scope else []}],
        }
        if op.body is not None:
            entry["requestBody"] = {"required": True, "content": {JSON: {"schema": refs[(op.body, "validation")]}}}
        if op.conditional and op.method != "GET":
            entry["parameters"].append({"name": "If-Match", "in": "header", "required": False,
                                        "schema": {"type": "string"},
                                        "description": "The ETag you read; a change made since is refused (412)."})
        paths.setdefault(op.path, {})[op.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": info,
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearerAuth": {
                "type": "http", "scheme": "bearer", "bearerFormat": "mfst_…",
                "description": "A personal access token, made on the account's \"API tokens\" page."}},
        },
        "externalDocs": {"url": problem_url, "description": "Reference, and the problem types"},
    }
