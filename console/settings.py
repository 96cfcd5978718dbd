"""Sluice settings, read from the environment and grouped by concern.

Every setting has a safe default for a local run; production sets DEBUG off and
provides SECRET_KEY, ALLOWED_HOSTS and DATABASE_URL.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SLUICE_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(float(value)) if value else default


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


# --- Core -------------------------------------------------------------------------------------
DEBUG = env_bool("DEBUG", False)


def _local_secret_key() -> str:
    """A key generated once into var/ so local runs keep their sessions across restarts."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable "
            "(or DEBUG=1 for a local run, which generates one into var/)."
        )
    SECRET_KEY = _local_secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "django_filters",
    "ninja",  # serves /api/docs (Swagger UI) from our static files, not a CDN
    "axes",  # login rate limiting (see "Web security" below)
    "console",
    "audit",  # audit entries and API tokens (imports no other app of ours)
    "sources",
    "events",
    "logtypes",
    "detections",
    "ingestion",
    "destinations",  # alert destinations: follows detections' Alert saves (destinations/hooks.py)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # --- web security (see "Web security" below) ---
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires
]

# --- Audit trail: record() learns the request's user, IP and door (console/API/admin) from here.
MIDDLEWARE += ["audit.trail.AuditContextMiddleware"]

ROOT_URLCONF = "console.urls"
WSGI_APPLICATION = "console.wsgi.application"

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
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
# DATABASE_URL: postgres://user@host:5432/name in production; an SQLite file under var/ otherwise.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'sluice.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while a worker writes; the timeout rides out short write locks.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not memory, so worker subprocesses in end-to-end tests share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-sluice.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -------------------------------------------------------------------------------------
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Security (production: DEBUG off) ---------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- Web security: CSP, login rate limiting, cookies (README "Hardening > Web security") -------
# Content-Security-Policy on every response: scripts and styles only from our own origin, so no
# inline <script>, no inline event handler, no eval and no style= attribute can run or apply.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True  # htmx reads the token from <body hx-headers>, never the cookie
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# django-axes: after SLUICE_LOGIN_FAILURE_LIMIT wrong passwords for one username from one IP, that
# pair is locked out for SLUICE_LOGIN_LOCKOUT_MINUTES (even with the right password). API tokens
# do not go through authenticate() and are not affected. Unlock: admin > Access attempts, or
# `manage.py axes_reset_username NAME`.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("SLUICE_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("SLUICE_LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# --- Internationalization ---------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True

# --- Celery (broker: Redis) -------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True  # a task killed mid-way is redelivered; ingestion is idempotent
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 25 * 60)
# Whatever a dead worker had reserved is back in its queue after `visibility_timeout` (+ one sweep):
# live workers refresh the deadline of every message they hold (sources.runtime), so a short
# timeout never hands a long task to a second worker.
SLUICE_BROKER_VISIBILITY_SECONDS = env_int("SLUICE_BROKER_VISIBILITY_SECONDS", 45)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": SLUICE_BROKER_VISIBILITY_SECONDS,
    "unacked_restore_interval": 5,
    "unacked_restore_throttle": 1,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Three queues, each served by its own worker processes (console/workers.py has the layout):
# receiving (long polls, listings) can never occupy the processes that read objects, and
# verifications and beat's fan-outs are answered within seconds whatever the backlog.
CELERY_TASK_DEFAULT_QUEUE = "ingest"
CELERY_TASK_ROUTES = {
    "ingestion.tasks.poll_source": {"queue": "receive"},
    "ingestion.tasks.start_passes": {"queue": "interactive"},
    "ingestion.tasks.check_health": {"queue": "interactive"},
    "sources.run_verification": {"queue": "interactive"},
    "detections.run_rule": {"queue": "interactive"},
    "detections.group_pending": {"queue": "interactive"},
    "destinations.deliver": {"queue": "interactive"},
    "destinations.sweep": {"queue": "interactive"},
    "destinations.follow": {"queue": "interactive"},
    "destinations.check_system": {"queue": "interactive"},
}
# Processes per worker of the layout (console/workers.py); `ingest` does the CPU work: one per core.
SLUICE_WORKER_CONCURRENCY = {
    "receive": env_int("SLUICE_RECEIVE_CONCURRENCY", 8),
    "ingest": env_int("SLUICE_INGEST_CONCURRENCY", os.cpu_count() or 2),
    "interactive": env_int("SLUICE_INTERACTIVE_CONCURRENCY", 4),
}
CELERY_BEAT_SCHEDULE: dict = {
    # ingestion: a pass for each source whose transport needs one (receive a queue, list a
    # bucket when due), source health (a fan-out nobody ran within its period is dropped: the
    # next one does the same work)
    "ingestion-start-passes": {
        "task": "ingestion.tasks.start_passes",
        "schedule": 10.0,
        "options": {"expires": 10},
    },
    "ingestion-check-health": {
        "task": "ingestion.tasks.check_health",
        "schedule": 30.0,
        "options": {"expires": 30},
    },
    # detections: group new matches a crash left ungrouped (between a batch's commit and its
    # grouping, detections/alerting.py)
    "detections-group-pending": {
        "task": "detections.group_pending",
        "schedule": 30.0,
        "options": {"expires": 30},
    },
    # destinations: hand out deliveries whose task message was lost; system alerts (drop-off,
    # failing verification, exhausted objects, failure rate) raised and resolved
    "destinations-follow": {
        "task": "destinations.follow",
        "schedule": 5.0,
        "options": {"expires": 5},
    },
    "destinations-sweep": {
        "task": "destinations.sweep",
        "schedule": 15.0,
        "options": {"expires": 15},
    },
    "destinations-check-system": {
        "task": "destinations.check_system",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    # events: delete events past SLUICE_EVENT_RETENTION_DAYS, daily
    "events-purge-expired": {"task": "events.tasks.purge_expired_events", "schedule": 86400.0},
}
# Beat's record of when each entry last ran. Tests and benchmarks give their beat its own file, so
# they never share (or clobber) the one of a console running from the same checkout.
CELERY_BEAT_SCHEDULE_FILENAME = os.environ.get("SLUICE_BEAT_SCHEDULE_FILE") or str(
    VAR_DIR / "celerybeat-schedule"
)

# --- AWS --------------------------------------------------------------------------------------
# boto3 reads AWS_ENDPOINT_URL itself (a local S3/SQS such as moto server); Sluice never takes an
# endpoint from user input.
AWS_ENDPOINT_URL = os.environ.get("AWS_ENDPOINT_URL") or None
AWS_DEFAULT_REGION = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")

# --- Sluice -----------------------------------------------------------------------------------
SLUICE_SCHEMAS_DIR = Path(os.environ.get("SLUICE_SCHEMAS_DIR", VAR_DIR / "schemas"))
# More detection rules: folders of Panther-format rules (a .yml and a .py each), separated by ":".
SLUICE_RULES_DIRS = [
    Path(part) for part in os.environ.get("SLUICE_RULES_DIRS", "").split(os.pathsep) if part
]
# Evaluate the rules on every batch ingestion stores (0: off, e.g. to measure what they cost).
SLUICE_DETECTIONS = os.environ.get("SLUICE_DETECTIONS", "1") != "0"
SLUICE_EVENT_RETENTION = timedelta(days=env_int("SLUICE_EVENT_RETENTION_DAYS", 90))

# --- Ingestion (defaults suit production; tests shorten the waits) ----------------------------
# Events and failures written per transaction.
SLUICE_INGEST_BATCH_SIZE = env_int("SLUICE_INGEST_BATCH_SIZE", 5000)
# Attempts before an object is marked failed (it stays retryable from the console).
SLUICE_INGEST_MAX_ATTEMPTS = env_int("SLUICE_INGEST_MAX_ATTEMPTS", 3)
# Backoff before a failed object is tried again: base * 2**(attempt-1) seconds.
SLUICE_INGEST_RETRY_BASE_SECONDS = env_float("SLUICE_INGEST_RETRY_BASE_SECONDS", 30)
# An object attempt silent this long (no batch committed) belonged to a dead worker.
SLUICE_INGEST_STALE_SECONDS = env_float("SLUICE_INGEST_STALE_SECONDS", 30)
# An object handed to the ingest queue and not started this long lost its task (a broker
# restart): the next listing hands it out again.
SLUICE_INGEST_DISPATCH_TIMEOUT_SECONDS = env_float("SLUICE_INGEST_DISPATCH_TIMEOUT_SECONDS", 300)
# Tasks waiting in the ingest queue above which receivers and listers hand out no more.
SLUICE_INGEST_HIGH_WATER = env_int("SLUICE_INGEST_HIGH_WATER", 40)
# Seconds to sleep after each committed batch: only for tests that kill a worker mid-object.
SLUICE_INGEST_BATCH_DELAY = env_float("SLUICE_INGEST_BATCH_DELAY", 0)
# Decompressed bytes read from one object or message; the rest becomes one failure.
SLUICE_MAX_OBJECT_BYTES = env_int("SLUICE_MAX_OBJECT_BYTES", 1 << 30)
# Longest record (line) parsed; a longer one is a failure keeping this many bytes of it.
SLUICE_MAX_LINE_BYTES = env_int("SLUICE_MAX_LINE_BYTES", 16 << 20)
# SQS: how long a received message stays hidden (extended while its object is read), the long
# polling wait (0-20 s), and how long one receive task keeps polling (beat starts the next).
SLUICE_SQS_VISIBILITY_SECONDS = env_int("SLUICE_SQS_VISIBILITY_SECONDS", 300)
SLUICE_SQS_WAIT_SECONDS = env_int("SLUICE_SQS_WAIT_SECONDS", 10)
SLUICE_SQS_POLL_SECONDS = env_float("SLUICE_SQS_POLL_SECONDS", 20)
# Objects one listing pass hands to workers.
SLUICE_LIST_MAX_OBJECTS = env_int("SLUICE_LIST_MAX_OBJECTS", 1000)
# Push transports (HTTP): the largest body accepted, sent or decompressed (413 above), and the
# requests per minute one source accepts (429 above; 0: no limit).
SLUICE_HTTP_MAX_BODY_BYTES = env_int("SLUICE_HTTP_MAX_BODY_BYTES", 10 << 20)
SLUICE_HTTP_RATE_LIMIT = env_int("SLUICE_HTTP_RATE_LIMIT", 600)
# Custom log types: the largest sample (decompressed bytes) the schema tester and inference read.
SLUICE_SAMPLE_MAX_BYTES = env_int("SLUICE_SAMPLE_MAX_BYTES", 5 << 20)
# The key that encrypts secrets stored in sources' settings (sources/crypto.py); without it, one
# derived from SECRET_KEY (so rotating SECRET_KEY would make them unreadable).
SLUICE_SECRETS_KEY = os.environ.get("SLUICE_SECRETS_KEY", "")

# --- Alert destinations -----------------------------------------------------------------------
# The console's address as a destination's reader opens it (links in messages).
SLUICE_CONSOLE_URL = os.environ.get("SLUICE_CONSOLE_URL", "http://127.0.0.1:8000")
# One try: seconds before giving up on a receiver; tries per change; the first retry's wait
# (doubling up to the maximum; a 429's Retry-After wins); how long a delivery may wait for its
# task before the sweeper hands it out again.
SLUICE_DESTINATION_TIMEOUT_SECONDS = env_float("SLUICE_DESTINATION_TIMEOUT_SECONDS", 10)
SLUICE_DESTINATION_MAX_ATTEMPTS = env_int("SLUICE_DESTINATION_MAX_ATTEMPTS", 6)
SLUICE_DESTINATION_RETRY_SECONDS = env_float("SLUICE_DESTINATION_RETRY_SECONDS", 10)
SLUICE_DESTINATION_MAX_BACKOFF_SECONDS = env_float("SLUICE_DESTINATION_MAX_BACKOFF_SECONDS", 600)
SLUICE_DESTINATION_SWEEP_GRACE_SECONDS = env_float("SLUICE_DESTINATION_SWEEP_GRACE_SECONDS", 30)
# Alerts written in bulk (ingestion) are followed from their updated_at by beat every 5 s; this
# window (well above the interval) covers a late commit or a missed tick.
SLUICE_DESTINATION_FOLLOW_SECONDS = env_float("SLUICE_DESTINATION_FOLLOW_SECONDS", 120)
# System alerts: a source whose failed lines exceed this share of its lines in the last hour.
SLUICE_SYSTEM_FAILURE_RATE = env_float("SLUICE_SYSTEM_FAILURE_RATE", 0.05)
# Email destinations: Django's SMTP backend, configured here.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "sluice@localhost")

# --- Logging ----------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"botocore": {"level": "WARNING"}, "urllib3": {"level": "WARNING"}},
}
