"""The API's description: a valid OpenAPI 3.1 document of every declared operation, and its reference page.

Generic over ``spec.OPERATIONS``: an operation declared tomorrow is checked
by the same tests, with no line to add here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator

from manifesto.api import problems, reference, spec

API_SOURCE = Path(reference.__file__).parent


@pytest.fixture
def openapi(client) -> dict:
    """The document as a client reads it."""
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def _resolve(doc: dict, schema: dict) -> dict:
    """Follow a ``$ref`` inside the document (it must exist)."""
    while "$ref" in schema:
        ref = schema["$ref"]
        assert ref.startswith("#/"), ref
        target: Any = doc
        for part in ref[2:].split("/"):
            assert part in target, f"dangling $ref {ref}"
            target = target[part]
        schema = target
    return schema


def _refs(value: Any):
    """Every ``$ref`` anywhere in a piece of the document."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "$ref":
                yield item
            else:
                yield from _refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)


def _unbounded_integers(doc: dict, schema: dict, where: str, seen: set[str]) -> list[str]:
    """Integer (or number) fields of an input schema lacking a minimum or a maximum, by their place."""
    if "$ref" in schema:
        if schema["$ref"] in seen:
            return []
        seen = seen | {schema["$ref"]}
    schema = _resolve(doc, schema)
    found = []
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "integer" in kinds or "number" in kinds:
        if "maximum" not in schema and "exclusiveMaximum" not in schema:
            found.append(f"{where}: no maximum")
        if "minimum" not in schema and "exclusiveMinimum" not in schema:
            found.append(f"{where}: no minimum")
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            found += _unbounded_integers(doc, option, where, seen)
    for name, prop in schema.get("properties", {}).items():
        found += _unbounded_integers(doc, prop, f"{where}.{name}", seen)
    if isinstance(schema.get("items"), dict):
        found += _unbounded_integers(doc, schema["items"], f"{where}[]", seen)
    if isinstance(schema.get("additionalProperties"), dict):
        found += _unbounded_integers(doc, schema["additionalProperties"], f"{where}{{}}", seen)
    return found


def test_the_document_is_valid_openapi_3_1(openapi):
    """openapi-spec-validator accepts it as OpenAPI 3.1 (schemas included, JSON Schema 2020-12)."""
    assert openapi["openapi"].startswith("3.1")
    errors = [error.message for error in OpenAPIV31SpecValidator(openapi).iter_errors()]
    assert errors == []


def test_the_document_is_public_and_cacheable(client):
    """Any site or tool may fetch it (CORS), a proxy may keep it a few minutes."""
    response = client.get("/api/v1/openapi.json")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "public" in response.headers["Cache-Control"]


@pytest.mark.parametrize("op", spec.OPERATIONS, ids=lambda op: f"{op.method} {op.path}")
def test_every_operation_is_described_with_its_statuses(openapi, op):
    """Each declared operation is in the document, with every status its checks and services may answer."""
    entry = openapi["paths"][op.path][op.method.lower()]
    assert entry["summary"] == op.summary
    assert entry["tags"] == [op.tag]
    statuses = {int(code) for code in entry["responses"]}
    assert op.status in statuses or (op.status == 200 and op.response is None and 204 in statuses)
    assert {400, 429, 503} <= statuses
    assert set(op.errors) <= statuses
    if op.login or op.scope:
        assert {401, 403} <= statuses
    if op.body is not None:
        assert {413, 415, 422} <= statuses
        assert entry["requestBody"]["required"] is True
    if op.query is not None:
        assert 422 in statuses
    if op.path_parameters:
        assert 404 in statuses
    if op.conditional:
        assert (304 if op.method == "GET" else 412) in statuses
    for code, answer in entry["responses"].items():
        assert answer["description"], code
        if int(code) >= 400:
            assert list(answer["content"]) == [problems.PROBLEM_JSON], code


@pytest.mark.parametrize("op", spec.OPERATIONS, ids=lambda op: f"{op.method} {op.path}")
def test_every_path_parameter_is_declared(openapi, op):
    """Each ``{name}`` of the path is a required path parameter, and there is no other."""
    entry = openapi["paths"][op.path][op.method.lower()]
    in_path = set(re.findall(r"{([a-z_]+)}", op.path))
    declared = {p["name"] for p in entry["parameters"] if p["in"] == "path"}
    assert in_path == declared
    assert all(p["required"] for p in entry["parameters"] if p["in"] == "path")


def test_every_reference_resolves(openapi):
    """Every ``$ref`` of the document names a schema that exists, and every response schema resolves."""
    for ref in set(_refs(openapi)):
        _resolve(openapi, {"$ref": ref})
    for path, methods in openapi["paths"].items():
        for method, entry in methods.items():
            for code, answer in entry["responses"].items():
                for media in answer.get("content", {}).values():
                    assert _resolve(openapi, media["schema"]), (method, path, code)


def test_operation_ids_are_unique(openapi):
    """A code generator names its functions by operationId: two alike would collide."""
    ids = [entry["operationId"] for methods in openapi["paths"].values() for entry in methods.values()]
    assert len(ids) == len(set(ids)) == len(spec.OPERATIONS)


def test_no_input_takes_an_unbounded_number(openapi):
    """Every number a client sends (path, query, body) has both bounds: a huge one never reaches the database."""
    found = []
    for path, methods in openapi["paths"].items():
        for method, entry in methods.items():
            where = f"{method.upper()} {path}"
            for parameter in entry.get("parameters", []):
                found += _unbounded_integers(openapi, parameter.get("schema", {}),
                                             f"{where} {parameter['in']}.{parameter['name']}", set())
            body = entry.get("requestBody", {}).get("content", {}).get(spec.JSON, {}).get("schema")
            if body:
                found += _unbounded_integers(openapi, body, f"{where} body", set())
    assert found == []


def test_every_write_needs_a_token_and_says_which_scope(openapi):
    """A write lists only the bearer scheme with its scope; a read also lets visitors in (an empty requirement)."""
    for path, methods in openapi["paths"].items():
        for method, entry in methods.items():
            security = entry["security"]
            if method != "get":
                assert {} not in security, (method, path)
            assert any("bearerAuth" in item for item in security), (method, path)


# ------------------------------------------------------------------ the problem types

def _kinds_in_code() -> set[str]:
    """Every problem kind the API's code may answer: those raised by name, and those given by status."""
    kinds = set(problems._TYPES.values())
    for path in API_SOURCE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        kinds |= set(re.findall(r"Problem\(\s*\d{3}\s*,\s*\"([a-z-]+)\"", text))
        kinds |= set(re.findall(r"kind=\"([a-z-]+)\"", text))
    return kinds


def test_every_problem_kind_is_explained():
    """Each kind the code answers with has its explanation on the reference page (the ``type`` links there)."""
    explained = {kind for kind, _status, _text in reference.PROBLEM_KINDS}
    assert _kinds_in_code() - explained == set()
    assert {"insufficient-scope", "invalid-json", "validation", "conflict", "precondition-failed"} <= explained


def test_a_problem_links_to_its_explanation(client):
    """The ``type`` of a refusal is a link to the reference page's anchor for it."""
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    kind = response.get_json()["type"]
    assert kind == "/api/docs#problem-not-found"
    page = client.get(kind.split("#")[0]).get_data(as_text=True)
    assert f'id="{kind.split("#")[1]}"' in page


# ------------------------------------------------------------------ the reference page

def test_the_reference_page_shows_every_operation_and_problem(client, openapi):
    """One page, rendered on the server, with each operation, its tables, and an anchor per problem kind."""
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "<script" not in page  # works without JavaScript, nothing from a CDN
    assert 'href="/api/v1/openapi.json"' in page
    for op in spec.OPERATIONS:
        assert f"<code>{op.method} {op.path}</code>" in page, op.path
        anchor = openapi["paths"][op.path][op.method.lower()]["operationId"]
        assert f'id="op-{anchor}"' in page
    for kind, _status, _text in reference.PROBLEM_KINDS:
        assert page.count(f'id="problem-{kind}"') == 1
    for name in openapi["components"]["schemas"]:
        assert f'id="schema-{name}"' in page
    # Links inside the page all land on an anchor of the page.
    anchors = set(re.findall(r'id="([^"]+)"', page))
    for target in re.findall(r'href="#([^"]+)"', page):
        assert target in anchors, target


def test_the_reference_page_is_accessible(client):
    """One h1, no heading level skipped, every table captioned with its header cells scoped."""
    page = client.get("/api/docs").get_data(as_text=True)
    main = page[page.index("<main"):page.index("</main>")]
    levels = [int(level) for level in re.findall(r"<h([1-6])[ >]", main)]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False)), levels
    tables = re.findall(r"<table.*?</table>", main, re.S)
    assert tables
    for table in tables:
        assert "<caption>" in table
        assert all('scope="' in cell for cell in re.findall(r"<th\b[^>]*>", table))


def test_the_reference_page_explains_the_introduction(client):
    """Authentication with a token, scopes, a first curl call, pages, validators, limits and errors."""
    page = client.get("/api/docs").get_data(as_text=True)
    for needle in ("Authorization: Bearer", "curl ", "per_page", "If-None-Match", "If-Match", "RateLimit-Remaining",
                   "application/problem+json", 'id="scopes"', "moderate"):
        assert needle in page, needle
    assert "http://localhost/api/v1" in page


def test_the_reference_page_links_to_the_token_page(client, app):
    """The account's "API tokens" page is where a token is made: the introduction links to it when it exists."""
    page = client.get("/api/docs").get_data(as_text=True)
    if "api_tokens.index" in app.view_functions:
        with app.test_request_context():
            from flask import url_for

            assert f'href="{url_for("api_tokens.index")}"' in page
    else:
        assert "API tokens" in page


@pytest.mark.parametrize(("language", "skip_link", "heading"), [
    ("fr-FR,fr;q=0.9", "Aller au contenu", "<h1>"), ("es-ES,es;q=0.9", "Saltar al contenido", "<h1>")])
def test_the_reference_page_speaks_the_readers_language(client, language, skip_link, heading):
    """In French and Spanish the page's shell is translated and the operations still all there."""
    response = client.get("/api/docs", headers={"Accept-Language": language})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f'<html lang="{language[:2]}"' in page
    assert skip_link in page and heading in page
    for op in spec.OPERATIONS:
        assert f"<code>{op.method} {op.path}</code>" in page
    for kind, _status, _text in reference.PROBLEM_KINDS:
        assert f'id="problem-{kind}"' in page


def test_the_reference_page_is_the_same_for_every_visitor(client, make_user, login):
    """Public and revalidated for visitors; a logged-in reader's shell is private (their name in the header)."""
    response = client.get("/api/docs")
    assert response.headers["Cache-Control"] == "public, no-cache"
    login(make_user())
    assert client.get("/api/docs").headers["Cache-Control"].startswith("private")
