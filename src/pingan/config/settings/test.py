"""Test settings: the same suite runs on SQLite (default) and PostgreSQL (`DATABASE_URL`)."""

import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import database_from_env

SECRET_KEY = "pingan-tests"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
# A fixed key so tests are reproducible; it is never used outside the test suite.
PINGAN_DATA_KEY = "dGVzdC1vbmx5LWtleS1mb3ItcGluZ2FuLXRlc3RzLTA="
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DATABASES = database_from_env(Path(tempfile.gettempdir()) / f"pingan-test-{os.getpid()}.sqlite3")
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file rather than Django's in-memory default, so tests with threads (concurrent sync)
    # see one database with SQLite's real locking, as the embedded deployment does.
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"pingan-testdb-{os.getpid()}.sqlite3")
    }
STATIC_ROOT = Path(tempfile.gettempdir()) / "pingan-test-static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "attachments": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
}
# Tasks run in the calling thread; scheduled jobs are exercised through huey's own scheduler.
HUEY = {"name": "pingan-tests", "huey_class": "huey.MemoryHuey", "immediate": True, "utc": True}
PINGAN_SMS_GATEWAY = "pingan.core.sms.MemorySmsGateway"
