"""gunicorn entry point: `gunicorn wsgi:app`."""

from fundsvc import create_app

app = create_app()
