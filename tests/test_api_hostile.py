"""Hostile requests to every operation: each gets its problem details with the right status, never a 500.

Generic over ``spec.OPERATIONS`` and the OpenAPI document: for every
operation with a body, its body's fields as the document describes them
(a wrong type for each, a huge number for each integer, an unknown value for
each enumeration); for every operation with a query, its query's; for every
operation, bad tokens. Addresses are filled with the keys of seeded data, so
the request reaches the checks of a real resource. Nothing here changes the
data (every request is refused before the services run), so one seeded app
serves the whole module.
"""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from harness import bearer, _config, empty_tables
from manifesto import create_app
from manifesto.api import problems, spec
from manifesto.extensions import db
from test_api_schemathesis import UNLIMITED, World, seed_world

BODY_OPERATIONS = [op for op in spec.OPERATIONS if op.body is not None]
QUERY_OPERATIONS = [op for op in spec.OPERATIONS if op.query is not None]


def _label(op: spec.Operation) -> str:
    """A test id: ``POST /api/v1/documents/{slug}/amendments``."""
    return f"{op.method} {op.path}"


@pytest.fixture(scope="module")
def hostile(_schema):
    """One app for the module, seeded once, with a token of each kind; tables emptied at the end."""
    from manifesto.api.models import SCOPES, ApiToken
    from manifesto.api.tokens import create_token, revoke_token
    from manifesto.services import utcnow

    app = create_app(_config(_schema, **UNLIMITED))
    with app.app_context():
        world = seed_world()
        from manifesto.accounts.models import User

        moderator = db.session.scalar(db.select(User).filter_by(email="moderator@example.org"))
        expired = create_token(moderator, name="Expired", scopes=SCOPES, expires_in_days=1)
        db.session.get(ApiToken, expired.token.id).expires_at = utcnow() - timedelta(days=1)
        revoked = create_token(moderator, name="Revoked", scopes=SCOPES, expires_in_days=None)
        revoke_token(moderator, revoked.token.id)
        read_only = create_token(moderator, name="Read only", scopes=("read",), expires_in_days=None)
        db.session.commit()
        world.tokens.update(expired=expired.secret, revoked=revoked.secret, read_only=read_only.secret)
        db.session.remove()
    openapi = app.test_client().get("/api/v1/openapi.json").get_json()
    yield app, world, openapi
    with app.app_context():
        db.session.remove()
        empty_tables()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(hostile) -> FlaskClient:
    """A client of the module's app (no app context held: each request runs as in production)."""
    return hostile[0].test_client()


def assert_problem(response, status: int, kind: str | None = None) -> dict:
    """The answer is problem details with this status (and kind): type, title, status, detail."""
    text = response.get_data(as_text=True)
    assert response.status_code == status, text[:500]
    assert response.mimetype == problems.PROBLEM_JSON, text[:200]
    data = json.loads(text)
    assert {"type", "title", "status", "detail"} <= set(data)
    assert data["status"] == status and data["title"] and data["detail"]
    assert data["type"].startswith(problems.TYPE_BASE)
    if kind is not None:
        assert data["type"] == problems.TYPE_BASE + kind
    assert response.headers["Cache-Control"] == "no-store"
    return data


def _fields(data: dict) -> set[str]:
    """The fields a 422 names."""
    return {error["field"] for error in data["errors"]}


def _send(client, op: spec.Operation, world: World, *, token: str | None = "moderator", **kwargs):
    """Send ``op`` to its seeded address with the moderator's token (or another, or none)."""
    headers = {**bearer(world.tokens[token] if token else None), **kwargs.pop("headers", {})}
    return client.open(world.path_for(op), method=op.method, headers=headers, **kwargs)


def _resolve(openapi: dict, schema: dict) -> dict:
    """Follow a ``$ref`` of the document."""
    while "$ref" in schema:
        schema = openapi["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _options(openapi: dict, schema: dict) -> list[dict]:
    """The non-null alternatives of a property's schema, each resolved."""
    schema = _resolve(openapi, schema)
    options = schema.get("anyOf") or schema.get("oneOf") or [schema]
    resolved = [_resolve(openapi, option) for option in options]
    return [option for option in resolved if option.get("type") != "null"]


def _properties(openapi: dict, op: spec.Operation) -> dict[str, dict]:
    """The body's properties as the document describes them."""
    entry = openapi["paths"][op.path][op.method.lower()]
    return _resolve(openapi, entry["requestBody"]["content"][spec.JSON]["schema"]).get("properties", {})


WRONG_BY_TYPE: dict[str, Any] = {"string": 12345, "integer": "12", "number": "twelve", "boolean": "yes",
                                 "array": "not a list", "object": "not an object"}


def _wrong_value(openapi: dict, schema: dict) -> Any:
    """A value of a type the property never takes."""
    kinds = set()
    for option in _options(openapi, schema):
        kind = option.get("type") or ("string" if "enum" in option and all(isinstance(v, str) for v in option["enum"])
                                      else None)
        kinds |= set(kind) if isinstance(kind, list) else {kind}
    for kind, value in (("boolean", "yes"), ("string", 12345), ("integer", "12"), ("array", 7), ("object", 7)):
        if kind in kinds:
            candidates = [v for v in (12345, "12", True, [1], {"a": 1}) if not _fits(v, kinds)]
            return candidates[0] if candidates else value
    return [[["nested"]]] if "array" not in kinds else 12345


def _fits(value: Any, kinds: set) -> bool:
    """Whether a JSON value has one of the JSON Schema types (strictly: no "5" for 5)."""
    names = {bool: "boolean", int: "integer", str: "string", list: "array", dict: "object", float: "number"}
    kind = names[type(value)]
    return kind in kinds or (kind == "integer" and "number" in kinds)


def _integer_properties(openapi: dict, op: spec.Operation) -> list[str]:
    """The body's integer fields."""
    return [name for name, prop in _properties(openapi, op).items()
            if any(option.get("type") == "integer" for option in _options(openapi, prop))]


def _enum_properties(openapi: dict, op: spec.Operation) -> list[str]:
    """The body's fields that take one of a fixed set of values."""
    return [name for name, prop in _properties(openapi, op).items()
            if any("enum" in option or "const" in option for option in _options(openapi, prop))]


# ------------------------------------------------------------------ the body, as bytes

@pytest.mark.parametrize("op", BODY_OPERATIONS, ids=_label)
def test_a_body_that_is_not_json_is_refused(client, hostile, op):
    """Invalid JSON, an empty body, bad UTF-8 and a deeply nested array: 400; another content type: 415."""
    _app, world, _openapi = hostile
    for raw in (b"{not json", b"", b'{"a": "\xff\xfe"}', b"[" * 100000, b'{"a": 1,}'):
        assert_problem(_send(client, op, world, data=raw, content_type="application/json"), 400, "invalid-json")
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                         "application/xml"):
        response = _send(client, op, world, data=b'{"a": 1}', content_type=content_type)
        assert_problem(response, 415, "unsupported-media-type")
    assert_problem(_send(client, op, world, data=b'{"a": 1}'), 415)  # no content type at all


@pytest.mark.parametrize("op", BODY_OPERATIONS, ids=_label)
def test_a_body_over_the_limit_is_refused(client, hostile, op):
    """A body past API_MAX_BODY: 413, whether its length is announced or not."""
    app, world, _openapi = hostile
    limit = int(app.config["API_MAX_BODY"])
    big = json.dumps({"body": "x" * (limit + 10)}).encode()
    data = assert_problem(_send(client, op, world, data=big, content_type="application/json"), 413, "too-large")
    assert str(limit) in data["detail"].replace(",", "").replace("\u202f", "").replace("\xa0", "")
    # Sent without a length (as a chunked body arrives): read only up to the limit, then refused.
    streamed = _send(client, op, world, input_stream=io.BytesIO(big), content_type="application/json")
    assert_problem(streamed, 413, "too-large")


@pytest.mark.parametrize("op", BODY_OPERATIONS, ids=_label)
def test_a_body_that_is_not_an_object_is_refused(client, hostile, op):
    """A list, a string, a number or null where an object is expected: 422."""
    _app, world, _openapi = hostile
    for raw in (b"[]", b'"text"', b"5", b"null", b'[{"a": 1}]', b"NaN"):
        assert_problem(_send(client, op, world, data=raw, content_type="application/json"), 422, "validation")


# ------------------------------------------------------------------ the body's fields

@pytest.mark.parametrize("op", BODY_OPERATIONS, ids=_label)
def test_an_unknown_field_is_named(client, hostile, op):
    """A field the body does not take: 422 naming it (not silently ignored)."""
    _app, world, _openapi = hostile
    data = assert_problem(_send(client, op, world, json={"no_such_field": "x"}), 422, "validation")
    assert "no_such_field" in _fields(data)
    assert all(error["message"] for error in data["errors"])


@pytest.mark.parametrize("op", BODY_OPERATIONS, ids=_label)
def test_each_field_of_the_wrong_type_is_named(client, hostile, op):
    """For each field, a value of another type (strict: "5" is not 5, 1 is not true): 422 naming it."""
    _app, world, openapi = hostile
    for name, prop in _properties(openapi, op).items():
        value = _wrong_value(openapi, prop)
        data = assert_problem(_send(client, op, world, json={name: value}), 422, "validation")
        assert any(field == name or field.startswith(name + ".") for field in _fields(data)), (name, value, data)


@pytest.mark.parametrize("op", BODY_OPERATIONS, ids=_label)
def test_huge_and_negative_numbers_are_named(client, hostile, op):
    """An integer field given 10**30, -10**30 or -1 (where not allowed): 422 naming it, never a database error."""
    _app, world, openapi = hostile
    for name in _integer_properties(openapi, op):
        for value in (10**30, -(10**30), 2**63, 1e300):
            data = assert_problem(_send(client, op, world, json={name: value}), 422, "validation")
            assert name in _fields(data), (name, value)


@pytest.mark.parametrize("op", BODY_OPERATIONS, ids=_label)
def test_unknown_enum_values_are_named(client, hostile, op):
    """A field that takes one of a few values, given another: 422 naming it and listing the allowed ones."""
    _app, world, openapi = hostile
    for name in _enum_properties(openapi, op):
        for value in ("no-such-value", "ACCEPT", ""):
            data = assert_problem(_send(client, op, world, json={name: value}), 422, "validation")
            assert name in _fields(data), (name, value)


# ------------------------------------------------------------------ the query

def _query_parameters(openapi: dict, op: spec.Operation) -> list[dict]:
    """The operation's query parameters as the document describes them."""
    entry = openapi["paths"][op.path][op.method.lower()]
    return [p for p in entry["parameters"] if p["in"] == "query"]


@pytest.mark.parametrize("op", QUERY_OPERATIONS, ids=_label)
def test_bad_query_values_are_named(client, hostile, op):
    """Numbers that are not numbers, huge or negative (pages from 1), unknown values of a choice: 422 naming them."""
    _app, world, openapi = hostile
    for parameter in _query_parameters(openapi, op):
        name, options = parameter["name"], _options(openapi, parameter["schema"])
        bad = []
        if any(option.get("type") == "integer" for option in options):
            bad += ["abc", "1.5", str(10**30), "-1", "-" + str(10**30), "0x10"]
        if any("enum" in option for option in options):
            bad += ["no-such-value"]
        if any(option.get("type") == "boolean" for option in options):
            bad += ["maybe", "2"]
        for value in bad:
            for token in ("moderator", None):
                response = _send(client, op, world, token=token, query_string={name: value})
                if name == "page" and value == "-1":
                    assert response.status_code == 422
                if response.status_code != 422 and value in ("-1",):
                    continue  # a bound that allows negatives (none so far): only the type is checked
                data = assert_problem(response, 422, "validation")
                assert name in _fields(data), (name, value)


# ------------------------------------------------------------------ tokens

BAD_AUTHORIZATION = {
    "not bearer": "Basic dXNlcjpwYXNz",
    "empty bearer": "Bearer ",
    "not our form": "Bearer not-a-token",
    "too long": "Bearer mfst_" + "a" * 5000,
    "unknown": "Bearer mfst_" + "A" * 43,
    "control characters": "Bearer mfst_\x00\x01",
}


@pytest.mark.parametrize("op", spec.OPERATIONS, ids=_label)
def test_unusable_tokens_get_401(client, hostile, op):
    """A malformed, unknown, expired or revoked token: 401 with the Bearer challenge, on reads and writes alike."""
    _app, world, _openapi = hostile
    path = world.path_for(op)
    for label, header in BAD_AUTHORIZATION.items():
        try:
            response = client.open(path, method=op.method, headers={"Authorization": header}, json={})
        except ValueError:  # the test client itself refuses the header (control characters): nothing to send
            continue
        assert_problem(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"].startswith("Bearer"), label
    for kind in ("expired", "revoked"):
        response = _send(client, op, world, token=kind, json={})
        assert_problem(response, 401, "unauthorized")
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize("op", [op for op in spec.OPERATIONS if op.login], ids=_label)
def test_a_write_without_a_token_gets_401(client, hostile, op):
    """Writes need a token: without one, 401 before the body is even read."""
    _app, world, _openapi = hostile
    assert_problem(_send(client, op, world, token=None, json={}), 401, "unauthorized")


@pytest.mark.parametrize("op", [op for op in spec.OPERATIONS if op.scope not in (None, "read")], ids=_label)
def test_a_token_without_the_scope_gets_403(client, hostile, op):
    """A moderator's token with only ``read`` cannot write: 403 insufficient-scope, naming the scope."""
    _app, world, _openapi = hostile
    response = _send(client, op, world, token="read_only", json={})
    data = assert_problem(response, 403, "insufficient-scope")
    assert op.scope in data["detail"]
    assert f'scope="{op.scope}"' in response.headers["WWW-Authenticate"]


# ------------------------------------------------------------------ addresses

@pytest.mark.parametrize("op", [op for op in spec.OPERATIONS if op.path_parameters], ids=_label)
def test_huge_and_unknown_keys_in_the_address_get_404(client, hostile, op):
    """An id past any column's range, zero, or a slug that does not exist: 404 problem details, never a 500."""
    _app, world, _openapi = hostile
    body = {"json": {}} if op.body is not None else {}
    for name, kind in op.path_parameters:
        for value in ((10**30, 0, 2**63, -1) if kind == "int" else ("no-such-thing", "x" * 300, "%00", "é")):
            path = world.path_for(op).replace(f"/{world.path_values(op)[name]}", f"/{value}", 1) \
                if name != "slug" else world.path_for(op).replace(f"/documents/{world.keys['slug']}",
                                                                 f"/documents/{value}", 1)
            response = client.open(path, method=op.method, headers=bearer(world.tokens["moderator"]), **body)
            assert response.status_code in (404, 422), (path, response.status_code)
            assert_problem(response, response.status_code)


def test_an_unknown_method_gets_405_with_allow(client, hostile):
    """A method an address does not take: 405 problem details listing those it takes."""
    _app, world, _openapi = hostile
    op = next(op for op in spec.OPERATIONS if op.method == "GET" and op.path == "/api/v1/documents/{slug}")
    response = client.open(world.path_for(op), method="PUT", headers=bearer(world.tokens["moderator"]), json={})
    assert_problem(response, 405, "method-not-allowed")
    assert "GET" in response.headers["Allow"]
