"""Django settings for blingsync, read from the environment (and `.env`) with django-environ.

The variable names are a contract (SPEC section 3); `.env.example` lists them all.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from blingsync.demo_guard import demo_addresses_problem
from blingsync.secret_key import HOW_TO_GENERATE, secret_key_problem

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# `make demo` (scripts/demo.py) runs the app against the sandbox Bling on loopback: its whole
# environment comes from the demo script, never from `.env` (which may hold a real account).
DEMO = env.bool("DEMO", default=False)
# A local `.env` is optional; real environment variables win over it.
if not DEMO:
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
TESTING = env.bool("BLINGSYNC_TESTING", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
# Former keys, newest first (Django's rotation): sessions signed with them stay valid and,
# without TOKEN_ENCRYPTION_KEY, the Bling tokens encrypted under them stay readable.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
if not DEBUG and (SECRET_KEY or not TESTING):
    _problem = secret_key_problem(SECRET_KEY)
    if _problem:
        raise ImproperlyConfigured(f"{_problem} {HOW_TO_GENERATE}")
if not SECRET_KEY:
    # A fresh key per development run: sessions and encrypted tokens do not survive a restart,
    # which is acceptable only for throw-away runs.
    SECRET_KEY = secrets.token_urlsafe(50)

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list(
    "CSRF_TRUSTED_ORIGINS", default=["http://localhost", "http://127.0.0.1"]
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_q",
    "axes",
    "blingsync.apps.BlingsyncConfig",
    "products.apps.ProductsConfig",
    "webhooks.apps.WebhooksConfig",
    "blingsync.alerts.apps.AlertsConfig",
    # Above products and webhooks: the operations faces (alerts sent, dashboard, status, mode).
    "blingsync.operations.apps.OperationsConfig",
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
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "blingsync.urls"
WSGI_APPLICATION = "blingsync.wsgi.application"

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
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default="sqlite:///db.sqlite3")}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    if _db["NAME"] not in ("", ":memory:") and not Path(_db["NAME"]).is_absolute():
        _db["NAME"] = str(BASE_DIR / _db["NAME"])
    _db.setdefault("OPTIONS", {}).update(
        {
            # IMMEDIATE takes the write lock at BEGIN, so two processes never deadlock on a
            # read lock upgrade; WAL lets readers go on while one process writes.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=20000;"
            ),
        }
    )
    # Persistent connections: closing the last connection to a WAL database checkpoints it
    # (an fsync), which cost every request ~10 ms and, under load, queued the webhook
    # receiver behind the write lock (bench/webhooks).
    _db.setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
else:
    _db.setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    _db.setdefault("CONN_HEALTH_CHECKS", True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Language and time ----------------------------------------------------------------------
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="pt-br")
TIME_ZONE = env.str("TIME_ZONE", default="America/Sao_Paulo")
USE_I18N = True
USE_TZ = True
LANGUAGES = [("pt-br", "Português (Brasil)"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Short dates and times in lists and pages (blingsync/formats/<lang>/formats.py).
FORMAT_MODULE_PATH = ["blingsync.formats"]

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

LOGIN_URL = "admin:login"

# --- Admin login throttling (django-axes) ----------------------------------------------------
# After AXES_FAILURE_LIMIT failed logins for one username from one address, that pair is
# locked out for AXES_COOLOFF_MINUTES (a successful login resets the count). Staff see the
# attempts in the admin and unlock by deleting the attempt there or with `axes_reset`.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "blingsync.login_lockout.lockout_response"
# The address a login comes from: the peer, or behind TRUSTED_PROXY_COUNT proxies the one
# they saw (blingsync/client_address.py); never a header a client can forge.
AXES_CLIENT_IP_CALLABLE = "blingsync.client_address.client_address"
# The attempt records keep no form data (a mistyped password may be the real one).
AXES_SENSITIVE_PARAMETERS = ["password", "csrfmiddlewaretoken"]

# --- Security (production behind an HTTPS proxy) ---------------------------------------------
# How many reverse proxies in front of the app append to X-Forwarded-For (SPEC 6). 0: the
# peer address is the client's and X-Forwarded-For is ignored (anyone can send it).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more (proxies in front).")
# SECURE_HTTPS=true says the site is served over HTTPS (by a proxy in front of gunicorn).
SECURE_HTTPS = env.bool("SECURE_HTTPS", default=False)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
if SECURE_HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # The health check is called by load balancers over plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^health/$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

# Webhook bodies above this size are refused (413) before any parsing.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
WEBHOOK_MAX_BODY_BYTES = env.int("WEBHOOK_MAX_BODY_BYTES", default=262_144)

# --- Bling ----------------------------------------------------------------------------------
BLING_CLIENT_ID = env.str("BLING_CLIENT_ID", default="")
BLING_CLIENT_SECRET = env.str("BLING_CLIENT_SECRET", default="")
BLING_REDIRECT_URI = env.str("BLING_REDIRECT_URI", default="")
BLING_API_BASE_URL = env.str(
    "BLING_API_BASE_URL", default="https://api.bling.com.br/Api/v3"
).rstrip("/")
BLING_AUTHORIZE_URL = env.str(
    "BLING_AUTHORIZE_URL", default="https://www.bling.com.br/Api/v3/oauth/authorize"
)
# The sandbox's page, linked from the demonstration banner (DEMO=true only).
DEMO_SANDBOX_URL = env.str("DEMO_SANDBOX_URL", default="")
if DEMO:
    _demo_problem = demo_addresses_problem(
        addresses={
            "BLING_API_BASE_URL": BLING_API_BASE_URL,
            "BLING_AUTHORIZE_URL": BLING_AUTHORIZE_URL,
            "BLING_REDIRECT_URI": BLING_REDIRECT_URI,
            "DEMO_SANDBOX_URL": DEMO_SANDBOX_URL,
        }
    )
    if _demo_problem:
        raise ImproperlyConfigured(_demo_problem)
BLING_RATE_PER_SECOND = env.int("BLING_RATE_PER_SECOND", default=3)
BLING_RATE_PER_DAY = env.int("BLING_RATE_PER_DAY", default=120_000)
BLING_TIMEOUT_SECONDS = env.float("BLING_TIMEOUT_SECONDS", default=20.0)
# Comma list: the first key encrypts, all decrypt (rotate with `rotate_token_key`).
TOKEN_ENCRYPTION_KEY = env.str("TOKEN_ENCRYPTION_KEY", default="")
# A caller sending it in the X-Health-Token header gets the detailed /health/.
HEALTH_TOKEN = env.str("HEALTH_TOKEN", default="")
# Client tuning (blingsync/bling/): slot spacing margin over 1/rate, bounded retries with
# exponential backoff, and the circuit breaker shared through the database.
BLING_RATE_MARGIN = env.float("BLING_RATE_MARGIN", default=0.1)
BLING_RETRY_ATTEMPTS = env.int("BLING_RETRY_ATTEMPTS", default=4)
BLING_RETRY_BASE_SECONDS = env.float("BLING_RETRY_BASE_SECONDS", default=0.5)
BLING_RETRY_MAX_SECONDS = env.float("BLING_RETRY_MAX_SECONDS", default=8.0)
BLING_CIRCUIT_FAILURES = env.int("BLING_CIRCUIT_FAILURES", default=10)
BLING_CIRCUIT_OPEN_SECONDS = env.int("BLING_CIRCUIT_OPEN_SECONDS", default=60)

# --- E-mail: alerts and the daily summary (blingsync/alerts/, blingsync/operations/alerts/) ------------------------------
# EMAIL_URL is django-environ's e-mail URL (smtp://user:password@host:587, submission://...,
# smtps://...); unset, messages go to the console (the process's log).
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
ALERTS_FROM = env.str("ALERTS_FROM", default="blingsync@localhost")
DEFAULT_FROM_EMAIL = SERVER_EMAIL = ALERTS_FROM
ALERTS_TO = env.list("ALERTS_TO", default=[])
# The site's address as staff reach it, for the links in e-mails. Unset: the origin of
# BLING_REDIRECT_URI when that is set (it must be the public address anyway), else localhost.
SITE_URL = env.str(
    "SITE_URL",
    default=(
        BLING_REDIRECT_URI.split("/bling/", 1)[0] if BLING_REDIRECT_URI else "http://localhost:8000"
    ),
).rstrip("/")

# --- Background tasks (django-q2) -----------------------------------------------------------
Q_BROKER = env.str("Q_BROKER", default="orm")
if Q_BROKER not in ("orm", "redis"):
    raise ImproperlyConfigured("Q_BROKER must be 'orm' or 'redis'.")
# The longest task is a sweep: it is bounded by its own time budget (SWEEP_MAX_SECONDS) well
# under `timeout`; `retry` must exceed `timeout` or a slow task would be handed out twice.
SWEEP_MAX_SECONDS = env.int("SWEEP_MAX_SECONDS", default=3000)
Q_CLUSTER = {
    "name": "blingsync",
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": 3600,
    "retry": 3900,
    "max_attempts": 3,
    "catch_up": False,
    "ack_failures": True,
    "save_limit": 1000,
    "label": "Django Q",
    # The ORM broker looks for new tasks this often when its queue is empty (one indexed read
    # of its table): a product event waits on average half of it before a worker takes it.
    "poll": env.float("Q_POLL", default=0.2),
}
if Q_BROKER == "redis":
    Q_CLUSTER["redis"] = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
    Q_CLUSTER["broker_class"] = "blingsync.task_broker.DelayedRedis"
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["broker_class"] = "blingsync.task_broker.DelayedORM"
# Tests run tasks inline (no cluster) unless a test starts a real one.
if TESTING:
    Q_CLUSTER["sync"] = env.bool("Q_SYNC", default=True)

# --- Logging: one line per record on stdout; credentials are masked in the formatted text ---
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        # The formatter masks credentials in its whole output, tracebacks included.
        "line": {
            "()": "blingsync.log_redaction.RedactingFormatter",
            "fmt": "%(asctime)s %(levelname)s %(process)d %(name)s: %(message)s",
            # TIME_ZONE-local (Django sets the process's TZ) with its offset, like gunicorn's
            # lines: one clock in the logs.
            "datefmt": "%Y-%m-%d %H:%M:%S %z",
        }
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "line",
        }
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        "django-q": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        # urllib3 logs full URLs with query strings at DEBUG; keep it quiet.
        "urllib3": {"level": "WARNING"},
    },
}
