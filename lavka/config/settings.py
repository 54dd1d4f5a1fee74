"""Django settings, read from LAVKA_* environment variables with safe defaults.

See README.md ("Configuration") for the table of variables.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.utils.translation import gettext_lazy as _

from lavka.config.env import (
    ConfigError,
    env_bool,
    env_int,
    env_list,
    parse_database_url,
    parse_redis_url,
    secret_key,
)
from lavka.config.env import data_dir as _data_dir

PACKAGE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = _data_dir()

DEBUG = env_bool("LAVKA_DEBUG", False)
SECRET_KEY = secret_key(DATA_DIR)
ALLOWED_HOSTS = env_list("LAVKA_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("LAVKA_CSRF_TRUSTED_ORIGINS", [])
TESTING = env_bool("LAVKA_TESTING", False)

INSTALLED_APPS = [
    # First, so that its templates (registration/*) override django.contrib.auth's.
    "lavka.web",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",
    "huey.contrib.djhuey",
    "lavka.core",
    "lavka.audit",
    "lavka.identity",
    "lavka.notifications",
    "lavka.jobs",
    "lavka.clients",
    "lavka.search",
    "lavka.imports",
    "lavka.sales",
    "lavka.leads",
    "lavka.keyaccounts",
    "lavka.plans",
    "lavka.analytics",
]

# Server time per request (a Server-Timing header and a log line), for benchmarks.
SERVER_TIMING = env_bool("LAVKA_SERVER_TIMING", False)

MIDDLEWARE = [
    "lavka.web.timing.ServerTimingMiddleware",  # first, to time the rest; off by default
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "lavka.identity.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "lavka.web.errors.DomainErrorMiddleware",
    "lavka.api.auth.ApiLanguageMiddleware",
]

ROOT_URLCONF = "lavka.config.urls"
WSGI_APPLICATION = "lavka.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "lavka.web.context_processors.shell",
            ],
        },
    },
]

# Django's form renderer, remembering each widget's HTML (see lavka/web/renderers.py).
FORM_RENDERER = "lavka.web.renderers.MemoTemplates"

# --- database -----------------------------------------------------------------
DATABASE_URL = os.environ.get("LAVKA_DATABASE_URL", "").strip() or (
    f"sqlite:///{DATA_DIR / 'lavka.sqlite3'}"
)
_db = parse_database_url(DATABASE_URL)
DATABASES: dict[str, dict[str, Any]]
if _db.engine == "sqlite":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": _db.name,
            "OPTIONS": {
                # WAL lets readers go on while one writer writes; IMMEDIATE takes the
                # write lock at BEGIN so two writers queue instead of failing midway.
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000;"
                ),
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            "TEST": {"NAME": os.path.join(DATA_DIR, "test.sqlite3")} if TESTING else {},
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": _db.name,
            "USER": _db.user,
            "PASSWORD": _db.password,
            "HOST": _db.host,
            "PORT": _db.port,
            "CONN_MAX_AGE": env_int("LAVKA_DB_CONN_MAX_AGE", 60),
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": {
                "connect_timeout": env_int("LAVKA_DB_CONNECT_TIMEOUT", 5),
                **(_db.options or {}),
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache and jobs -----------------------------------------------------------------
REDIS_URL = os.environ.get("LAVKA_REDIS_URL", "").strip()
if REDIS_URL:
    parse_redis_url(REDIS_URL)
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "lavka",
        }
    }
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "lavka",
        "url": REDIS_URL,
        "immediate": False,
        "utc": True,
        "consumer": {"workers": env_int("LAVKA_WORKER_THREADS", 4), "worker_type": "thread"},
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "lavka",
        }
    }
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "lavka",
        "filename": str(DATA_DIR / "jobs.sqlite3"),
        "immediate": False,
        "utc": True,
        "consumer": {"workers": env_int("LAVKA_WORKER_THREADS", 2), "worker_type": "thread"},
    }
if TESTING and not env_bool("LAVKA_TEST_REAL_QUEUE", False):
    # Tests run tasks inline (after commit, as in production) unless a test starts a worker.
    HUEY = {**HUEY, "immediate": True}

# --- users and sessions -------------------------------------------------------------
AUTH_USER_MODEL = "identity.User"
AUTHENTICATION_BACKENDS = ["lavka.identity.backends.RoleBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_FAILURE_LIMIT = env_int("LAVKA_LOGIN_FAILURE_LIMIT", 5)
LOGIN_LOCKOUT_SECONDS = env_int("LAVKA_LOGIN_LOCKOUT_SECONDS", 900)
SESSION_COOKIE_AGE = env_int("LAVKA_SESSION_AGE", 60 * 60 * 12)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 2

HTTPS = env_bool("LAVKA_HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS and env_bool("LAVKA_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("LAVKA_HSTS_SECONDS", 31536000) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if env_bool("LAVKA_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- email ----------------------------------------------------------------------------
EMAIL_HOST = os.environ.get("LAVKA_EMAIL_HOST", "").strip()
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("LAVKA_EMAIL_PORT", 25)
    EMAIL_HOST_USER = os.environ.get("LAVKA_EMAIL_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("LAVKA_EMAIL_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("LAVKA_EMAIL_USE_TLS", False)
    EMAIL_USE_SSL = env_bool("LAVKA_EMAIL_USE_SSL", False)
    EMAIL_TIMEOUT = env_int("LAVKA_EMAIL_TIMEOUT", 10)
    if EMAIL_USE_TLS and EMAIL_USE_SSL:
        raise ConfigError(
            "LAVKA_EMAIL_USE_TLS and LAVKA_EMAIL_USE_SSL are both on", "turn one of them off"
        )
else:
    # No mail server configured: letters are written as files, so nothing is lost.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(DATA_DIR / "mail")
DEFAULT_FROM_EMAIL = os.environ.get("LAVKA_EMAIL_FROM", "Lavka <lavka@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
BASE_URL = os.environ.get("LAVKA_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# --- languages, time, formats --------------------------------------------------------
LANGUAGE_CODE = os.environ.get("LAVKA_LANGUAGE", "en")
LANGUAGES = [("en", _("English")), ("ru", _("Russian"))]
if LANGUAGE_CODE not in dict(LANGUAGES):
    raise ConfigError(f"LAVKA_LANGUAGE={LANGUAGE_CODE!r} is not supported", "use en or ru")
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = os.environ.get("LAVKA_TIME_ZONE", "UTC")
USE_THOUSAND_SEPARATOR = True
DEFAULT_CURRENCY = os.environ.get("LAVKA_CURRENCY", "RUB")
COMPANY_NAME = os.environ.get("LAVKA_COMPANY_NAME", "").strip()
# Phones typed without a country code are read as numbers of this country.
PHONE_REGION = os.environ.get("LAVKA_PHONE_REGION", "RU").upper()
ATTACHMENT_MAX_BYTES = env_int("LAVKA_ATTACHMENT_MAX_MB", 25) * 1024 * 1024

# --- static files ---------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = DATA_DIR / "files"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- API ------------------------------------------------------------------------------
NINJA_PAGINATION_MAX_LIMIT = 500

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LAVKA_LOG_LEVEL", "INFO")},
    # fontTools logs every step of subsetting the PDF font at INFO: dozens of lines a PDF.
    "loggers": {"huey": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}},
}
