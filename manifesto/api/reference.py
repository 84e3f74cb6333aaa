"""The API's description: the OpenAPI 3.1 document, and the reference page made from it.

The page (``/api/docs``) is rendered on the server from the very document
that ``/api/v1/openapi.json`` serves, so the two cannot drift: no
JavaScript, no CDN, nothing vendored, and it reads offline once loaded. Its
own prose (authentication, scopes, pages, validators, limits, the problem
types) is translated; the operations' texts come from the code's
declarations, in English, as the document has them.

Every problem answered by the API names its kind by an anchor of this page
(``problems.TYPE_BASE``: ``/api/docs#problem-validation``); :data:`PROBLEM_KINDS`
explains each one, and a test checks that every kind the code raises is here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, current_app, json, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from . import spec
from .v1.common import PageQuery

bp = Blueprint("api_reference", __name__)

VERSION = "1.0.0"

# Every kind of problem the API answers with (problems.py, auth.py, spec.py): status and what it means.
PROBLEM_KINDS: list[tuple[str, int, Any]] = [
    ("bad-request", 400, _l("The request could not be read: a damaged address, header or query.")),
    ("invalid-json", 400, _l("The body is not valid JSON. Check quotes, commas and brackets, and send UTF-8.")),
    ("unauthorized", 401, _l("No usable token where one is needed: none was sent, or it is mistyped, expired or "
                             "revoked, or its account is deactivated. The WWW-Authenticate header says which. "
                             "Make a new token on your account's API tokens page.")),
    ("insufficient-scope", 403, _l("The token lacks the scope this operation needs (named in the detail and in "
                                   "WWW-Authenticate). Make a token with that scope.")),
    ("forbidden", 403, _l("The token's owner may not do this, whatever the token's scopes: the same rule as on "
                          "the site's pages (for instance, only moderators decide amendments).")),
    ("not-found", 404, _l("There is no such thing, or you may not see it (a hidden amendment, someone else's "
                          "draft).")),
    ("method-not-allowed", 405, _l("This address does not take this method; the Allow header lists those it "
                                   "takes.")),
    ("not-acceptable", 406, _l("The API answers only JSON.")),
    ("conflict", 409, _l("Someone changed it first: the revision or base version you sent is no longer the "
                         "current one. current_revision says which to base your change on; read it again and "
                         "send your change again.")),
    ("precondition-failed", 412, _l("The If-Match header names an ETag that is no longer current: the resource "
                                    "changed since you read it. Read it again, then send your change again.")),
    ("too-large", 413, _l("The body is larger than the site accepts; the detail says the limit in bytes.")),
    ("unsupported-media-type", 415, _l("The body was not sent as JSON: send it with Content-Type: "
                                       "application/json.")),
    ("validation", 422, _l("A field is wrong: a missing, unknown or mistyped field, a number out of range, a "
                           "value not among those allowed, or a service's refusal of a value. errors lists "
                           "each field with its message, the same as the web form's.")),
    ("rate-limited", 429, _l("Too many requests: wait the seconds of Retry-After before the next one. The "
                             "RateLimit-* headers of every answer say how much is left.")),
    ("server-error", 500, _l("Something went wrong on our side. It has been logged; try again later, and tell "
                             "the site's administrators if it lasts.")),
    ("unavailable", 503, _l("The database is busy or down: try again after the seconds of Retry-After.")),
    ("problem", 0, _l("Any other refusal: read its status, title and detail.")),
]

# What each scope lets a token do (its user's role still decides, as on the pages).
SCOPE_TEXTS: list[tuple[str, Any]] = [
    ("read", _l("Read as the token's owner: what they may see, including their own drafts and what their role "
                "shows them. Without a token, you read what any visitor reads.")),
    ("propose", _l("Propose, edit and withdraw amendments; support them and withdraw support.")),
    ("comment", _l("Comment, reply and report comments.")),
    ("moderate", _l("Moderators' actions: decide amendments and publish releases. A participant's token with "
                    "this scope still cannot decide: the person's role is checked as on the pages.")),
]


def document() -> dict:
    """The OpenAPI document of the running app (its operations are the same in every process)."""
    info = {
        "title": "Manifesto API",
        "version": VERSION,
        "summary": "Read and write a Manifesto site's documents, amendments and discussion.",
        "description": ("The same rules as the site's pages: every call goes through the same services. "
                        "Read without a token what a visitor may read; send a personal access token "
                        "(Authorization: Bearer ...) to act as its owner, within its scopes."),
    }
    return spec.openapi_document(info, url_for("api_reference.docs"))


@bp.get("/api/v1/openapi.json")
def openapi():
    """The OpenAPI 3.1 document of API v1."""
    response = Response(json.dumps(document(), sort_keys=False), mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


# ------------------------------------------------------------------ the page, from the document

@dataclass
class Field:
    """One row of a fields or parameters table."""

    name: str
    type: Markup
    required: bool
    description: str
    constraints: list[str]
    where: str = ""


@dataclass
class Status:
    """One status an operation may answer with, and what it means."""

    code: str
    meaning: str
    media_type: str
    problem: bool


@dataclass
class OperationView:
    """One operation as the page shows it."""

    anchor: str
    method: str
    path: str
    summary: str
    description: str
    scope: str | None
    token_required: bool
    parameters: list[Field]
    body_name: str | None
    body: list[Field]
    response_name: str | None
    response: list[Field]
    statuses: list[Status]


@dataclass
class SchemaView:
    """One schema of the document's components: its fields, or the values it may take."""

    name: str
    description: str
    fields: list[Field]
    values: list[str]


def _ref_name(ref: str) -> str:
    """The component's name of a ``$ref`` (``#/components/schemas/DocumentOut`` -> ``DocumentOut``)."""
    return ref.rsplit("/", 1)[-1]


def type_markup(schema: dict[str, Any]) -> Markup:
    """A schema's type in words, each named schema a link to its table: ``array of <a>DocumentOut</a>``."""
    if "$ref" in schema:
        return Markup('<a href="#schema-{0}"><code>{0}</code></a>').format(_ref_name(schema["$ref"]))
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return Markup(_(" or ")).join(type_markup(option) for option in schema[key])
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return type_markup(schema["allOf"][0])
    if "const" in schema:
        return Markup("<code>{}</code>").format(json.dumps(schema["const"]))
    kind = schema.get("type")
    if isinstance(kind, list):
        return Markup(_(" or ")).join(type_markup({**schema, "type": one}) for one in kind)
    if kind == "array":
        return Markup(_("array of %(type)s")) % {"type": type_markup(schema.get("items", {}))}
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return Markup(_("object of %(type)s")) % {"type": type_markup(schema["additionalProperties"])}
    if kind is None:
        return Markup(_("any"))
    text = Markup("<code>{}</code>").format(kind)
    if "format" in schema:
        text += Markup(" ({})").format(schema["format"])
    return text


def constraints(schema: dict[str, Any]) -> list[str]:
    """The limits a value must keep, in short words in the reader's language: ``from 1 to 100``, ``default 25``."""
    found = []
    for option in schema.get("anyOf", []):
        found.extend(constraints(option))
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        found.append(_("from %(low)s to %(high)s", low=low, high=high))
    elif low is not None:
        found.append(_("at least %(low)s", low=low))
    elif high is not None:
        found.append(_("at most %(high)s", high=high))
    if "exclusiveMinimum" in schema:
        found.append(f"> {schema['exclusiveMinimum']}")
    if "exclusiveMaximum" in schema:
        found.append(f"< {schema['exclusiveMaximum']}")
    words = {"minLength": _("at least %(n)s characters"), "maxLength": _("at most %(n)s characters"),
             "minItems": _("at least %(n)s items"), "maxItems": _("at most %(n)s items"),
             "pattern": _("matching %(n)s")}
    for key, text in words.items():
        if key in schema:
            found.append(text % {"n": schema[key]})
    if "enum" in schema:
        found.append(_("one of: %(values)s", values=", ".join(json.dumps(value) for value in schema["enum"])))
    if "default" in schema:
        found.append(_("default %(value)s", value=json.dumps(schema["default"])))
    return found


def fields_of(schema: dict[str, Any], schemas: dict[str, Any]) -> list[Field]:
    """The properties of an object schema (a ``$ref`` followed) as table rows."""
    if "$ref" in schema:
        schema = schemas.get(_ref_name(schema["$ref"]), {})
    required = set(schema.get("required", []))
    return [Field(name=name, type=type_markup(prop), required=name in required,
                  description=prop.get("description", ""), constraints=constraints(prop))
            for name, prop in schema.get("properties", {}).items()]


def operation_view(path: str, method: str, entry: dict[str, Any], schemas: dict[str, Any]) -> OperationView:
    """One operation of the document, made ready for the page's tables."""
    parameters = [Field(name=p["name"], type=type_markup(p.get("schema", {})), required=p.get("required", False),
                        description=p.get("description", p.get("schema", {}).get("description", "")),
                        constraints=constraints(p.get("schema", {})), where=p["in"])
                  for p in entry.get("parameters", [])]
    body_schema = entry.get("requestBody", {}).get("content", {}).get(spec.JSON, {}).get("schema")
    success = [(code, value) for code, value in entry["responses"].items() if code.startswith("2")]
    response_schema = None
    for _code, value in success:
        response_schema = value.get("content", {}).get(spec.JSON, {}).get("schema") or response_schema
    statuses = []
    for code, value in entry["responses"].items():
        media = next(iter(value.get("content", {})), "")
        statuses.append(Status(code=code, meaning=value.get("description", ""), media_type=media,
                               problem=media.endswith("problem+json")))
    security = entry.get("security", [])
    scopes = [scope for item in security for scopes in item.values() for scope in scopes]
    return OperationView(
        anchor=entry.get("operationId", f"{method}-{path}"), method=method.upper(), path=path,
        summary=entry.get("summary", ""), description=entry.get("description", ""),
        scope=scopes[0] if scopes else None, token_required={} not in security,
        parameters=parameters,
        body_name=_ref_name(body_schema["$ref"]) if body_schema and "$ref" in body_schema else None,
        body=fields_of(body_schema, schemas) if body_schema else [],
        response_name=_ref_name(response_schema["$ref"]) if response_schema and "$ref" in response_schema else None,
        response=fields_of(response_schema, schemas) if response_schema else [],
        statuses=statuses)


def page_parts(doc: dict[str, Any]) -> tuple[list[tuple[str, list[OperationView]]], list[SchemaView]]:
    """The document's operations grouped by tag (in the order tags first appear), and its schemas by name."""
    schemas = doc.get("components", {}).get("schemas", {})
    tags: dict[str, list[OperationView]] = {}
    for path, methods in doc.get("paths", {}).items():
        for method, entry in methods.items():
            tag = (entry.get("tags") or ["API"])[0]
            tags.setdefault(tag, []).append(operation_view(path, method, entry, schemas))
    views = [SchemaView(name=name, description=schema.get("description", ""), fields=fields_of(schema, schemas),
                        values=[json.dumps(value) for value in schema.get("enum", [])])
             for name, schema in sorted(schemas.items())]
    return list(tags.items()), views


@bp.get("/api/docs")
def docs():
    """The API's reference page, rendered from the OpenAPI document: the same for every visitor."""
    doc = document()
    tags, schemas = page_parts(doc)
    base = request.host_url.rstrip("/") + spec.PREFIX
    tokens_url = url_for("api_tokens.index") if "api_tokens.index" in current_app.view_functions else None
    config = current_app.config
    return render_template(
        "api/reference.html", doc=doc, tags=tags, schemas=schemas, base=base, tokens_url=tokens_url,
        openapi_url=url_for("api_reference.openapi"), problem_kinds=PROBLEM_KINDS, scope_texts=SCOPE_TEXTS,
        max_page_size=int(config["API_MAX_PAGE_SIZE"]), page_size=PageQuery.model_fields["per_page"].default,
        max_body=int(config["API_MAX_BODY"]), per_token=config.get("RATELIMIT_API_PER_TOKEN") or "",
        per_address=config.get("RATELIMIT_API_PER_ADDRESS") or "")
