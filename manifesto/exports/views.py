"""Download pages: the export form and the files themselves."""

from flask import Blueprint

bp = Blueprint("exports", __name__)
