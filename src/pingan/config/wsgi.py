"""WSGI entry point (waitress in `pingan serve`, or any WSGI server in production)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pingan.config.settings.production")
application = get_wsgi_application()
