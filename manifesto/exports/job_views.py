"""Pages of long exports built in the background: progress, then the download link."""

from flask import Blueprint

bp = Blueprint("export_jobs", __name__)
