"""Release pages: the list, one release's text, and the redline between two texts."""

from flask import Blueprint

bp = Blueprint("releases", __name__)
