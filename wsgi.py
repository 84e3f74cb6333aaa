"""WSGI entry point: ``gunicorn wsgi:app``."""

from manifesto import create_app

app = create_app()
