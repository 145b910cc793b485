"""Django settings, derived entirely from `overt.conf.OvertSettings`.

Nothing here is a knob of its own: to change behaviour, add a field to
OvertSettings so that the CLI, the docs and validation all see it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dj_database_url

from overt.access.config import django_settings as _access_settings
from overt.conf import ensure_secret_key, get_settings

OVERT = get_settings()
HOME = OVERT.home_dir
HOME.mkdir(parents=True, exist_ok=True)

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = ensure_secret_key(OVERT)
DEBUG = OVERT.debug
ALLOWED_HOSTS = OVERT.allowed_hosts

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from static files (no CDN)
    "django_tasks",
    "django_tasks_db",
    "overt.evidence",
    "overt.custody",
    "overt.ingest",
    "overt.media",
    "overt.jobs",
    "overt.review",
    "overt.ops",
    "overt.uploads",
    "overt.redaction",
    "overt.retention",
    "overt.transcripts",
    "overt.disclosure",
    "overt.oversight",
    "overt.cases",
    "overt.fleet",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "overt.access",
    "overt.portal",
]

MIDDLEWARE = [
    "overt.project.errors.RequestIdMiddleware",  # first: every response carries the id
    "overt.web.forwarded.UntrustedForwardedHeadersMiddleware",  # before any reads them
    "django.middleware.security.SecurityMiddleware",
    "overt.access.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "overt.access.middleware.SessionPolicyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "overt.project.errors.DomainErrorMiddleware",  # a service's refusal, as page or problem
]

ROOT_URLCONF = "overt.project.urls"
WSGI_APPLICATION = "overt.project.wsgi.application"
ASGI_APPLICATION = "overt.project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "project" / "templates"],  # the site's error pages
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "overt.portal.context.portal",  # the navigation bar, by role
            ],
        },
    },
]


def _database() -> dj_database_url.DBConfig:
    if OVERT.database_url:
        # No persistent connections: under ASGI every request runs in a thread of its own,
        # so a kept connection is never reused and stays open until its thread is
        # collected; three app processes held ~100 idle PostgreSQL connections in the
        # storm (issue 18) and new ones were refused ("too many clients").
        db = dj_database_url.parse(OVERT.database_url, conn_max_age=0)
        if db["ENGINE"].endswith("sqlite3"):
            db["OPTIONS"] = _sqlite_options()
        return db
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(OVERT.sqlite_path),
        "OPTIONS": _sqlite_options(),
    }


def _sqlite_options() -> dict[str, Any]:
    # WAL lets the web server read while the worker writes; synchronous=FULL makes a
    # committed catalogue row survive power loss, which evidence needs more than speed.
    return {
        "init_command": ("PRAGMA journal_mode=WAL;PRAGMA synchronous=FULL;PRAGMA foreign_keys=ON;"),
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if OVERT.jobs_engine == "redis":
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    RQ_QUEUES = {"default": {"URL": OVERT.redis_url, "DEFAULT_TIMEOUT": 3600}}
    INSTALLED_APPS.append("django_rq")
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
CSRF_FAILURE_VIEW = "overt.project.errors.csrf_failure"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/home/"  # each role's home page (overt.portal)
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = OVERT.time_zone
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = HOME / "static"
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = True  # serve app static files without a collectstatic step

# Sessions, cookies, password hashing, SSO and security headers: see overt.access.config.
globals().update(_access_settings(OVERT))

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "overt.access.authentication.ApiTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "overt.project.errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "overt API",
    "DESCRIPTION": "Evidence platform for body-worn video.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "overt.web.problems.document_problems",  # errors are problem+json
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {"overt": {"handlers": ["console"], "level": OVERT.log_level}},
}
