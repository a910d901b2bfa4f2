"""WSGI entry point: `gunicorn wsgi:app`."""

from resettle import create_app

app = create_app()
