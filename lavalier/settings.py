"""Settings for Lavalier.

Every value comes from the environment (or a `.env` file beside manage.py) through
django-environ; `.env.example` documents each variable. The defaults are the embedded
development setup: SQLite in WAL mode and Celery's filesystem broker, so `make run`
needs no server. Production sets DEBUG=false, which refuses the development secret.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEVELOPMENT_SECRET_KEY = "dev-insecure-lavalier-secret-key-change-me"
# A Fernet key (32 url-safe base64 bytes) that only development and tests may use.
DEVELOPMENT_FIELD_ENCRYPTION_KEY = "bGF2YWxpZXItZGV2ZWxvcG1lbnQta2V5LTMyLWJ5dGU="

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default=DEVELOPMENT_SECRET_KEY)
# Comma-separated Fernet keys; the first encrypts, all of them decrypt (key rotation).
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEY", default=[DEVELOPMENT_FIELD_ENCRYPTION_KEY])

# "production" makes the checks below strict: DEBUG must be off there, whatever .env sets.
LAVALIER_ENV = env.str("LAVALIER_ENV", default="development")
if LAVALIER_ENV == "production" and DEBUG:
    raise ImproperlyConfigured(
        "DEBUG is on while LAVALIER_ENV is production. Set DEBUG=false: debug pages show "
        "settings and stack traces to anyone."
    )

if not DEBUG and not env.bool("LAVALIER_ALLOW_DEVELOPMENT_SECRETS", default=False):
    if SECRET_KEY == DEVELOPMENT_SECRET_KEY:
        raise ImproperlyConfigured(
            "SECRET_KEY is the development default while DEBUG is off. "
            "Set SECRET_KEY to a long random value, or DEBUG=true for development."
        )
    if DEVELOPMENT_FIELD_ENCRYPTION_KEY in FIELD_ENCRYPTION_KEYS:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY is the development default while DEBUG is off. Generate one with "
            "python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'."
        )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "ops",
    "accounts",
    "candidates",
    "roles",
    "integrations",
    "ats_ashby",
    "ats_greenhouse",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "ops.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "ops.middleware.LoginRateLimitMiddleware",
    "accounts.middleware.OrganizationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "lavalier.urls"
WSGI_APPLICATION = "lavalier.wsgi.application"

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
                "accounts.context_processors.membership",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'lavalier.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server, the worker and beat read while one of them writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "staticfiles")
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
if DEBUG:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

# Security headers. HTTPS-only flags follow SECURE_COOKIES so that development on
# http://127.0.0.1 keeps working while production sets them.
SECURE_COOKIES = env.bool("SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE_COOKIES else None

# Celery. The default broker is kombu's filesystem transport under var/, so the
# embedded setup runs a real worker process with no broker server.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        # Broadcast messages (worker pings, remote control) go here instead of ./control.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # With acks_late, Redis hands a task that a killed worker held to another worker only
    # after this many seconds. Syncs are guarded by a lock, so an early redelivery of a
    # sync that still runs is skipped rather than run twice.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=900),
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True

# Ashby.
ASHBY_API_URL = env.str("ASHBY_API_URL", default="https://api.ashbyhq.com")
# Greenhouse Harvest v3: the API base and the OAuth server that issues its tokens.
GREENHOUSE_API_URL = env.str("GREENHOUSE_API_URL", default="https://harvest.greenhouse.io/v3")
GREENHOUSE_AUTH_URL = env.str("GREENHOUSE_AUTH_URL", default="https://auth.greenhouse.io")
# Minutes between incremental syncs that Celery beat starts for each connected organization.
SYNC_INTERVAL_MINUTES = env.int("SYNC_INTERVAL_MINUTES", default=5)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        # Appends the `extra` fields of each record as key=value (ids, counts, durations).
        "plain": {
            "()": "ops.log_format.KeyValueFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
}

CELERY_BEAT_SCHEDULE = {
    "incremental-syncs": {
        "task": "integrations.dispatch_scheduled_syncs",
        "schedule": SYNC_INTERVAL_MINUTES * 60.0,
    },
    "outbox-sweep": {
        "task": "integrations.sweep_outbox",
        "schedule": 60.0,
    },
    "worker-heartbeat": {
        "task": "ops.record_heartbeat",
        "schedule": 60.0,
    },
    "daily-reconciliation": {
        "task": "integrations.dispatch_reconciliation",
        "schedule": env.int("RECONCILE_INTERVAL_HOURS", default=24) * 3600.0,
    },
}


# Operations and hardening ------------------------------------------------------------

# Keep Django's LOGGING in the worker, so task log lines carry their key=value fields.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# /healthz/worker returns 503 when the heartbeat task last ran longer ago than this.
WORKER_HEARTBEAT_MAX_AGE_MINUTES = env.int("WORKER_HEARTBEAT_MAX_AGE_MINUTES", default=5)
# Read timeout, in seconds, of every request to Ashby's API.
ASHBY_READ_TIMEOUT_SECONDS = env.float("ASHBY_READ_TIMEOUT_SECONDS", default=30.0)

# Cache: Redis when there is one, so that login counters are shared by every process;
# otherwise a file cache under var/, which `make run`'s processes share too.
REDIS_URL = env.str("REDIS_URL", default="")
_cache_redis_url = REDIS_URL or (
    CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else ""
)
if _cache_redis_url:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _cache_redis_url,
            "KEY_PREFIX": "lavalier",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# Failed sign-ins allowed per username, and per client address, within the window.
LOGIN_RATE_LIMIT_USERNAME_FAILURES = env.int("LOGIN_RATE_LIMIT_USERNAME_FAILURES", default=5)
# Higher than the per-username limit because offices share one address behind NAT.
LOGIN_RATE_LIMIT_ADDRESS_FAILURES = env.int("LOGIN_RATE_LIMIT_ADDRESS_FAILURES", default=20)
LOGIN_RATE_LIMIT_WINDOW_SECONDS = env.int("LOGIN_RATE_LIMIT_WINDOW_SECONDS", default=15 * 60)

# Pages load scripts and styles from /static/ only; no inline code anywhere.
CONTENT_SECURITY_POLICY = env.str(
    "CONTENT_SECURITY_POLICY",
    default=(
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
)
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
# HSTS only where cookies are Secure, i.e. behind TLS; plain-HTTP development stays usable.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000) if SECURE_COOKIES else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)

# Sentry error reports, only when SENTRY_DSN is set. No personal data is sent.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
    )
