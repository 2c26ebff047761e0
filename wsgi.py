"""WSGI entry point for production: gunicorn wsgi:app."""

from idgov.app import create_app

app = create_app()
