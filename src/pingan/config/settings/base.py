"""Settings shared by every deployment. Secrets and deployment choices come from the environment."""

import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.conf import global_settings
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent.parent.parent
# Where the embedded database, the development key and exports live.
PINGAN_HOME = Path(os.environ.get("PINGAN_HOME", Path.cwd() / "var")).resolve()

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS = [h for h in os.environ.get("PINGAN_ALLOWED_HOSTS", "").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "pingan.core",
    "pingan.regions",
    "pingan.accounts",
    "pingan.campaigns",
    "pingan.surveys",
    "pingan.visits",
    "pingan.ledger",
    "pingan.reports",
    "pingan.api",
    "pingan.web",
    "pingan.field",
    # Synthetic data: `pingan demo` and `pingan generate_data` (no product app imports it).
    "pingan.demo",
    # The task queue (scheduled tick and bulletin, background exports); see task_queue_from_env.
    "huey.contrib.djhuey",
    # django-ninja's Swagger UI assets, served locally (no CDN on town intranets).
    "ninja",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "pingan.web.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "pingan.web.middleware.PasswordChangeRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "pingan.config.urls"
WSGI_APPLICATION = "pingan.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "pingan.web.context_processors.site",
            ],
        },
    },
]


def database_from_env(default_sqlite: Path) -> dict[str, Any]:
    """`DATABASE_URL` (postgres://…) when set, else the embedded SQLite file in WAL mode."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return {"default": dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)}
    return {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(default_sqlite),
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }


DATABASES = database_from_env(PINGAN_HOME / "pingan.sqlite3")


def task_queue_from_env(home: Path) -> dict[str, Any]:
    """The task queue (huey) behind scheduled and background jobs.

    `PINGAN_TASKS_URL` picks it: `redis://…` (Redis) or `postgres://…` (PostgreSQL) in
    production; unset, the embedded default keeps the queue in a SQLite file beside the
    database, and `pingan serve` runs the worker itself, so no extra server is needed.
    """
    url = os.environ.get("PINGAN_TASKS_URL", "")
    if url.startswith(("redis://", "rediss://", "unix://")):
        backend: dict[str, Any] = {"huey_class": "huey.RedisHuey", "url": url}
    elif url.startswith(("postgres://", "postgresql://")):
        backend = {"huey_class": "huey.PostgresHuey", "dsn": url}
    else:
        backend = {"huey_class": "huey.SqliteHuey", "filename": str(home / "tasks.sqlite3")}
    return {
        "name": "pingan",
        "immediate": False,
        "utc": True,
        "results": False,
        **backend,
        "consumer": {"workers": 2, "worker_type": "thread", "periodic": True},
    }


HUEY = task_queue_from_env(PINGAN_HOME)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# Django's hashers, plus one for generated one-time initial passwords (cadre import), listed
# last so a login rehashes with the default; see pingan.accounts.hashers.
PASSWORD_HASHERS = [
    *global_settings.PASSWORD_HASHERS,
    "pingan.accounts.hashers.OneTimePasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

# Chinese first: zh-hans unless the user switches to English.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = PINGAN_HOME / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    # Photos and files attached to concerns, 办结 and feedback (pingan.ledger.attachments):
    # a folder of their own under the data home, never under static, served only by the
    # scoped views. `PINGAN_ATTACHMENTS_DIR` moves it (a mounted volume, a backed-up disk).
    "attachments": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": os.environ.get("PINGAN_ATTACHMENTS_DIR", str(PINGAN_HOME / "attachments")),
            "file_permissions_mode": 0o640,
            "directory_permissions_mode": 0o750,
        },
    },
}
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 12
CSRF_COOKIE_HTTPONLY = True
# A form sent from a stale page: a Chinese 403 in the site's layout, not Django's page.
CSRF_FAILURE_VIEW = "pingan.web.errors.csrf_failure"
X_FRAME_OPTIONS = "DENY"

# Personal data: the master key for phone and ID numbers (see pingan.core.crypto).
PINGAN_DATA_KEY = os.environ.get("PINGAN_DATA_KEY", "")
# Bearer tokens for the API live this long.
PINGAN_API_TOKEN_TTL_HOURS = int(os.environ.get("PINGAN_API_TOKEN_TTL_HOURS", "720"))
PINGAN_SITE_TITLE = _("千家万户访平安")
# The daily bulletin is published at this time of day (Asia/Shanghai, HH:MM).
PINGAN_BULLETIN_TIME = os.environ.get("PINGAN_BULLETIN_TIME", "18:00")
# Outbound text messages: a class with send(*, phone, text); the default only logs.
PINGAN_SMS_GATEWAY = os.environ.get("PINGAN_SMS_GATEWAY", "pingan.core.sms.LogSmsGateway")
# Demo only (dev settings): the demo clock, "<demo moment>@<real moment>" (see core.clock).
PINGAN_DEMO_NOW = ""

# One line per event, on stderr, through one handler on the root logger. Django's own
# defaults (DEFAULT_LOGGING) give the `django` logger a console handler of its own (active
# with DEBUG) and mail_admins: both replaced by none, so its records reach the root's handler
# once. huey's worker adds a handler to the `huey` logger unless it has one: it gets ours and
# stops there. A 4xx is one plain line (no traceback); a 500 keeps its traceback, once.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "client_errors_without_traceback": {"()": "pingan.core.logs.ClientErrorsWithoutTraceback"}
    },
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["client_errors_without_traceback"],
        }
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "pingan": {"level": "INFO", "propagate": True},
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "huey": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}
