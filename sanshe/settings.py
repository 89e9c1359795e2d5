"""Sanshe settings: one file, configured from the environment.

Keys (SANSHE_SECRET_KEY, SANSHE_ID_KEY, SANSHE_INDEX_KEY) come from the environment or from
var/sanshe.env, which `manage.py genkeys` writes at install time and git ignores.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SANSHE_VAR_DIR", BASE_DIR / "var"))
TESTING = "pytest" in sys.modules or os.environ.get("SANSHE_TESTING") == "1"


def _read_env_file(path: Path) -> None:
    if not path.exists():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#"):
            os.environ.setdefault(name.strip(), value.strip())


_read_env_file(VAR_DIR / "sanshe.env")


def _key(name: str) -> str:
    value = os.environ.get(name, "")
    if value:
        return value
    if TESTING:
        from sanshe.lib.crypto import generate_key

        os.environ[name] = generate_key()
        return os.environ[name]
    raise ImproperlyConfigured(f"{name} is not set: run `python -m sanshe genkeys` or set it in the environment")


SECRET_KEY = _key("SANSHE_SECRET_KEY")
ID_KEY = _key("SANSHE_ID_KEY")
INDEX_KEY = _key("SANSHE_INDEX_KEY")

DEBUG = os.environ.get("SANSHE_DEBUG", "0") == "1"
DEMO_MODE = os.environ.get("SANSHE_DEMO", "0") == "1"
ALLOWED_HOSTS = [h for h in os.environ.get("SANSHE_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("SANSHE_CSRF_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    "sanshe.core",
    "sanshe.accounts",
    "sanshe.people",
    "sanshe.assessments",
    "sanshe.eligibility",
    "sanshe.catalog",
    "sanshe.orders",
    "sanshe.dispatch",
    "sanshe.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "sanshe.core.middleware.LoginRequiredMiddleware",
]

ROOT_URLCONF = "sanshe.urls"
WSGI_APPLICATION = "sanshe.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sanshe.accounts.context_processors.platform",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'sanshe.sqlite3'}"),
        conn_max_age=int(os.environ.get("SANSHE_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while a worker writes; IMMEDIATE avoids upgrade deadlocks.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["sanshe.accounts.backends.UsernameOrMobileBackend"]
PASSWORD_HASHERS = [
    "sanshe.core.hashers.TestArgon2PasswordHasher" if TESTING else "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
# Lock an account for LOCKOUT_MINUTES after LOCKOUT_FAILURES wrong passwords in a row.
LOCKOUT_FAILURES = int(os.environ.get("SANSHE_LOCKOUT_FAILURES", "5"))
# Text messages (confirmation codes, delivery alerts): "log" writes them to var/sms.log (demo and
# development); a deployment names its gateway class by dotted path (see orders/messages.py).
SANSHE_SMS_TRANSPORT = os.environ.get("SANSHE_SMS_TRANSPORT", "log")
LOCKOUT_MINUTES = int(os.environ.get("SANSHE_LOCKOUT_MINUTES", "15"))
SESSION_COOKIE_AGE = 8 * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = os.environ.get("SANSHE_SECURE_COOKIES", "0") == "1"
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
API_TOKEN_DAYS = int(os.environ.get("SANSHE_API_TOKEN_DAYS", "30"))

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
# Attachments are never served as static files: only through access-checked views.
MEDIA_ROOT = VAR_DIR / "media"
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
IMPORT_MAX_BYTES = 60 * 1024 * 1024
EXPORT_MAX_ROWS = int(os.environ.get("SANSHE_EXPORT_MAX_ROWS", "100000"))
# Exports with full names and ID numbers are capped lower: big lists leave the building masked.
EXPORT_FULL_MAX_ROWS = int(os.environ.get("SANSHE_EXPORT_FULL_MAX_ROWS", "5000"))

TASKS = {
    "default": {
        "BACKEND": (
            "django_tasks.backends.immediate.ImmediateBackend"
            if TESTING
            else "django_tasks_db.DatabaseBackend"
        ),
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "INFO" if not TESTING else "WARNING"},
}

# Static assets are served by the application itself (government intranets have no CDN).
WHITENOISE_USE_FINDERS = True
