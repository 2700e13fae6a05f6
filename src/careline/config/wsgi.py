"""WSGI entry point: ``gunicorn careline.config.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careline.config.settings")
application = get_wsgi_application()
