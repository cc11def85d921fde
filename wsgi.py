"""Entry point for gunicorn (``gunicorn wsgi:app``) and ``flask`` commands."""
from core.app import create_app

app = create_app()
