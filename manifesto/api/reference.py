"""The API's description: the OpenAPI 3.1 document, and the reference page made from it."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, json, url_for

from . import spec

bp = Blueprint("api_reference", __name__)

VERSION = "1.0.0"


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


@bp.get("/api/docs")
def docs():
    """The API's reference page (being written)."""
    return Response("The reference page is being written; see /api/v1/openapi.json.", mimetype="text/plain")
