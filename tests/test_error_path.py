"""One path from a service's refusal to a page (``manifesto.web``): each kind of refusal, and where it lands.

NotFound and PermissionDenied get their pages with the service's message; a
button declared with ``back_on_refusal`` goes back to its page with the
message flashed; a ValidationError or ConflictError no view handled hands
back what was sent, the message by its field; a PDF that fails in the request
answers the export page with the reason a failed job gives.
"""

from __future__ import annotations

import pytest
from flask import url_for

from manifesto.amendments import services as amendments
from manifesto.discussion.forms import ReplyForm
from manifesto.documents import services as documents
from manifesto.exports import jobs
from manifesto.services import ConflictError, ValidationError
from manifesto.web import back_on_refusal, refusals


@pytest.fixture
def open_document(make_document, users):
    """A document open for amendments."""
    return make_document(phase="amendments", editor=users["admin"])


@pytest.fixture
def amendment(open_document, make_user):
    """A submitted amendment by an author of its own."""
    author = make_user("participant", name="The Author")
    entry = documents.current_sections(open_document)[0]
    return amendments.propose_amendment(author, open_document.id, kind="modify", section_id=entry.section.id,
                                        heading=None, body=entry.version.body + " More.", reason="Why.")


def flashes(client, location: str) -> str:
    """The page a redirect goes to, as text (its flashed messages included)."""
    return client.get(location).get_data(as_text=True)


# ------------------------------------------------------------------ NotFound and PermissionDenied

def test_not_found_is_the_404_page_with_the_services_message(client, document):
    response = client.get("/d/nowhere/")
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Page not found" in page and "There is no document at this address." in page


def test_a_missing_amendment_is_a_404_with_its_message(client, amendment):
    response = client.get(f"/d/doc/amendments/{amendment.id + 1000}")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_permission_denied_is_the_403_page_with_the_services_message(client, login, users, document):
    login(users["participant"])
    response = client.get("/d/doc/sections/new")
    page = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "Not allowed" in page and "Only moderators can add sections." in page


def test_support_after_the_decision_goes_back_to_the_amendment_with_the_message(client, login, users, amendment):
    amendments.decide_amendment(users["admin"], amendment.document_id, amendment.id, decision="reject",
                                reason="Not now.", revision=amendment.revision)
    login(users["participant"])
    response = client.post(f"/d/doc/amendments/{amendment.id}/support", data={"action": "support"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/d/doc/amendments/{amendment.id}#support"
    page = flashes(client, response.headers["Location"])
    assert "flash-error" in page and "Only open amendments can be supported" in page
    assert amendments.supporters(amendment) == []


def test_a_button_refused_for_a_wrong_input_goes_back_too(client, login, users, amendment):
    login(users["participant"])
    assert client.post(f"/d/doc/amendments/{amendment.id}/support", data={"action": "support"}).status_code == 302
    again = client.post(f"/d/doc/amendments/{amendment.id}/support", data={"action": "support"})
    assert again.status_code == 303
    assert "You already support this amendment." in flashes(client, again.headers["Location"])


def test_a_button_not_shown_to_the_reader_answers_the_403_page(client, login, users, document):
    section = documents.current_sections(document)[0].section
    login(users["participant"])
    response = client.post(f"/d/doc/sections/{section.id}/move", data={"direction": "down"})
    assert response.status_code == 403
    assert "Only moderators can reorder sections." in response.get_data(as_text=True)


def test_a_refused_button_goes_back_to_the_page_it_sits_on(client, login, users, document):
    first = documents.current_sections(document)[0].section
    login(users["moderator"])
    stale = {"direction": "down", "structure_version": "99", "back": "/d/doc/"}  # the order changed meanwhile
    response = client.post(f"/d/doc/sections/{first.id}/move", data=stale)
    assert response.status_code == 303 and response.headers["Location"] == "/d/doc/"
    assert "The order of the sections changed" in flashes(client, "/d/doc/")


# ------------------------------------------------------------------ forms: refusals() and the pages behind it

@pytest.fixture
def refusing_app(make_app):
    """An app with three pages whose service refuses: a form page, an unhandled form, and a button."""
    app = make_app()

    def form_page():
        """A form page: the refusal stands by its field."""
        form = ReplyForm()
        with refusals(form) as refused:
            raise ValidationError("Say it in fewer words.", field="body")
        return f"{refused.status}:{form.body.errors}", refused.status

    def unhandled(kind: str):
        """A view that lets the service's refusal go."""
        ReplyForm()
        if kind == "conflict":
            raise ConflictError("Someone answered first.")
        raise ValidationError("Say it in fewer words.", field="body")

    @back_on_refusal(lambda: url_for("main.index"))
    def button():
        """A button: the refusal goes back with the message."""
        raise ConflictError("Someone pressed it first.")

    app.add_url_rule("/test/form", "test_form", form_page, methods=["POST"])
    app.add_url_rule("/test/unhandled/<kind>", "test_unhandled", unhandled, methods=["POST"])
    app.add_url_rule("/test/button", "test_button", button, methods=["POST"])
    with app.app_context():
        yield app


def test_refusals_put_the_message_by_its_field_and_keep_the_status(refusing_app):
    response = refusing_app.test_client().post("/test/form", data={"body": "A long answer."})
    assert response.status_code == 400
    assert response.get_data(as_text=True) == "400:['Say it in fewer words.']"


def test_an_unhandled_validation_error_hands_back_the_text_with_the_message_by_its_field(refusing_app):
    response = refusing_app.test_client().post("/test/unhandled/invalid", data={"body": "My careful answer."})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Please send this again" in page and "My careful answer." in page
    # By its field: the text area is marked invalid and the message follows it.
    assert 'aria-invalid="true"' in page
    assert page.index("My careful answer.") < page.index("Say it in fewer words.")
    assert 'action="/test/unhandled/invalid"' in page


def test_an_unhandled_conflict_is_the_stale_form_page_with_the_text(refusing_app):
    response = refusing_app.test_client().post("/test/unhandled/conflict", data={"body": "My careful answer."})
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Conflict" in page and "Someone answered first." in page and "My careful answer." in page
    assert "Nothing was saved." in page


def test_a_conflict_on_a_button_goes_back_with_the_message(refusing_app):
    client = refusing_app.test_client()
    response = client.post("/test/button")
    assert response.status_code == 303 and response.headers["Location"] == "/"
    with client.session_transaction() as session:
        assert ("error", "Someone pressed it first.") in session["_flashes"]


# ------------------------------------------------------------------ a PDF that fails in the request

def test_a_pdf_failing_in_the_request_answers_the_export_page_with_the_reason(client, document, monkeypatch,
                                                                             caplog):
    def broken(export, progress=None):
        raise RuntimeError("Pango exploded at glyph 42")

    monkeypatch.setattr(jobs, "pdf_unavailable_reason", lambda: None)
    monkeypatch.setattr(jobs, "render_pdf", broken)
    response = client.get("/d/doc/export/pdf?lines=1")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Download the text" in page and "The PDF could not be built." in page
    assert "failed because of an error on the server" in page and "Pango exploded" not in page
    assert "Pango exploded" in caplog.text  # the details go to the log
    assert '<input checked id="lines" name="lines"' in page  # the options the reader chose stay chosen
