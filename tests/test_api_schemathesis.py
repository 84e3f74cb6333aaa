"""Schemathesis against the live app, in process: every operation of the OpenAPI document, fuzzed from its schemas.

For each declared operation, as a moderator with a token of every scope and
as a visitor without one, Hypothesis draws requests from the document (valid
ones on the seeded document's real keys, valid ones on random keys, and
invalid ones) and Schemathesis checks each answer: no 5xx, only documented
statuses, the documented content type, a body that fits its schema, the
documented headers. The app runs on the suite's database (SQLite, or
PostgreSQL with TEST_DATABASE_URL), seeded with a document open for
amendments, its sections, amendments, comments and a release.

Bounded for CI: ``MAX_EXAMPLES`` per operation and role; derandomized there
by the "ci" profile (tests/conftest.py). Writes change the data between
examples (an amendment gets decided, a release published): the answers must
fit the document whatever the state.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from harness import bearer, _config, PASSWORD
from manifesto import create_app
from manifesto.api import spec
from manifesto.extensions import db

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
MAX_EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "12"))

# High enough that the fuzzing never meets a limit (the limits still count, and their headers are still sent).
UNLIMITED = {"RATELIMIT_API_PER_TOKEN": "100000 per minute", "RATELIMIT_API_PER_ADDRESS": "100000 per minute",
             "RATELIMIT_PROPOSALS": "100000 per hour", "RATELIMIT_COMMENTS": "100000 per hour",
             "RATELIMIT_REPORTS": "100000 per hour"}


@dataclass
class World:
    """What the seed made: the keys the addresses take, and a token per person."""

    keys: dict[str, object] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)

    def path_for(self, op: spec.Operation) -> str:
        """The operation's address on the seeded data (``/api/v1/documents/doc/amendments/3``)."""
        path = op.path
        for name, value in self.path_values(op).items():
            path = path.replace("{" + name + "}", str(value))
        return path

    def path_values(self, op: spec.Operation) -> dict[str, object]:
        """A real value for each of the operation's path parameters."""
        return {name: self.keys.get(name, 1 if kind == "int" else self.keys["slug"])
                for name, kind in op.path_parameters}


def seed_world() -> World:
    """In an app context: people, a document open for amendments, amendments, comments, a release, tokens."""
    from manifesto.accounts.services import register_user
    from manifesto.amendments import services as amendments
    from manifesto.api.models import SCOPES
    from manifesto.api.tokens import create_token
    from manifesto.discussion import comments
    from manifesto.documents import services as documents
    from manifesto.releases import services as releases

    people = {role: register_user(f"{role}@example.org", role.capitalize(), PASSWORD, None, None, role=role)
              for role in ("participant", "moderator", "admin")}
    author = register_user("author@example.org", "Author", PASSWORD, None, None)
    document = documents.create_document(people["admin"], title="Fuzzed manifesto", slug="fuzz",
                                         introduction="An *introduction*.")
    after = None
    for number in range(1, 4):
        section = documents.create_section(
            people["admin"], document.id, heading=f"Section {number}",
            body=f"Paragraph one of section {number}, on energy.\n\nParagraph two of section {number}, on work.",
            reason="Initial text.", after_section_id=after)
        after = section.id
    documents.update_document(people["admin"], document.id, title=document.title, introduction=document.introduction,
                              phase="amendments", amendment_deadline=None, min_supporters=0)
    entries = documents.current_sections(document)
    first = entries[0]
    documents.edit_section(people["admin"], document.id, first.section.id, heading=first.version.heading,
                           body=first.version.body + " A second version.", reason="Edited.", base_version=1)
    proposed = [amendments.propose_amendment(author, document.id, kind="modify", section_id=entry.section.id,
                                             heading=None, body=entry.version.body + " More.", reason="Why not.")
                for entry in documents.current_sections(document)[:2]]
    amendments.propose_amendment(people["participant"], document.id, kind="modify", section_id=entries[2].section.id,
                                 heading=None, body=entries[2].version.body + " Draft.", reason="Later.",
                                 submit=False)
    amendments.support_amendment(people["participant"], document.id, proposed[0].id)
    comment = comments.post_comment(people["participant"], document.id, body="A first remark.",
                                    section_id=first.section.id)
    comments.reply_to_comment(author, document.id, comment.id, body="A reply.")
    comments.post_comment(author, document.id, body="On the amendment.", amendment_id=proposed[0].id)
    release = releases.publish_release(people["moderator"], document.id, name="First draft")
    tokens = {role: create_token(people[role], name="Fuzz", scopes=SCOPES, expires_in_days=None).secret for role in people}
    tokens["author"] = create_token(author, name="Fuzz", scopes=SCOPES, expires_in_days=None).secret
    db.session.commit()
    keys = {"slug": document.slug, "section_id": first.section.id, "number": 1, "amendment_id": proposed[0].id,
            "comment_id": comment.id, "release_slug": release.slug}
    return World(keys=keys, tokens=tokens, ids={"document": document.id, "other_amendment": proposed[1].id})


@pytest.fixture
def fuzz_app(make_app):
    """The app under test, seeded; no app context is held, so each request runs as in production."""
    app = make_app(**UNLIMITED)
    with app.app_context():
        world = seed_world()
        db.session.remove()
    return app, world


def strategy_for(schema, op: spec.Operation, world: World):
    """Requests on the seeded keys (valid and invalid), and valid ones on random keys."""
    api_operation = schema[op.path][op.method]
    seeded = world.path_values(op)
    options = [api_operation.as_strategy(path_parameters=seeded),
               api_operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=seeded)]
    if op.path_parameters:
        options.append(api_operation.as_strategy())
    return st.one_of(options)


def fuzz(app, world: World, op: spec.Operation, headers: dict[str, str]) -> int:
    """Run the checks on ``MAX_EXAMPLES`` drawn requests of ``op``; returns how many were sent."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    # The in-process transport does not decode compressed bodies: ask for them plain.
    headers = {"Accept-Encoding": "identity", **headers}
    sent = []

    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy_for(schema, op, world))
    def run(case):
        case.call_and_validate(headers=headers, checks=CHECKS)
        sent.append(case)

    run()
    return len(sent)


OPERATIONS = sorted(spec.OPERATIONS, key=lambda op: (op.path, op.method))


@pytest.mark.parametrize("who", ["moderator", "visitor"])
@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: f"{op.method} {op.path}")
def test_every_answer_keeps_the_document(fuzz_app, op, who):
    """No 5xx, no undocumented status, every body and header as documented, for a moderator and a visitor."""
    app, world = fuzz_app
    headers = bearer(world.tokens["moderator"]) if who == "moderator" else {}
    assert fuzz(app, world, op, headers) >= 1


def test_the_fuzzing_catches_an_answer_off_its_schema(fuzz_app, monkeypatch):
    """The run is not blind: an operation answering a status or a body the document does not say fails it."""
    app, world = fuzz_app
    op = next(op for op in OPERATIONS if op.method == "GET" and op.path == "/api/v1/documents/{slug}")
    real = spec.answer

    def undocumented(result, operation):
        response = real(result, operation)
        if response.status_code == 200:
            response.set_data(b'{"slug": 5}')
        return response

    monkeypatch.setattr(spec, "answer", undocumented)
    with pytest.raises(FailureGroup) as found:
        fuzz(app, world, op, {})
    assert "JsonSchemaError" in _kinds(found.value)

    def teapot(result, operation):
        response = real(result, operation)
        response.status_code = 418
        return response

    monkeypatch.setattr(spec, "answer", teapot)
    with pytest.raises(FailureGroup) as found:
        fuzz(app, world, op, {})
    assert "UndefinedStatusCode" in _kinds(found.value)

    def crash(result, operation):
        raise RuntimeError("a bug")

    monkeypatch.setattr(spec, "answer", crash)
    app.config["API_RAISE_UNEXPECTED"] = False  # answered as production does: a 500 problem
    with pytest.raises(FailureGroup) as found:
        fuzz(app, world, op, {})
    assert "ServerError" in _kinds(found.value)


def _kinds(group: BaseException) -> set[str]:
    """The names of the failures a Schemathesis run found."""
    return {type(error).__name__ for error in getattr(group, "exceptions", [group])}
