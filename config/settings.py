"""Settings for every environment; the environment decides (see ``config/env.py`` and docs/operations.md).

With no environment at all this is the embedded default: SQLite in the project folder and Celery tasks
run in process. Production sets ``DATABASE_URL``, ``CELERY_BROKER_URL``, ``SECRET_KEY`` and
``ALLOWED_HOSTS``.
"""

import datetime as dt
import os
from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import (
    env_bool,
    env_database,
    env_int,
    env_list,
    env_rate,
    env_str,
    env_timezone,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = env_str("SECRET_KEY", default=None)
if SECRET_KEY is None:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is required unless DEBUG=true (make demo sets DEBUG=true for you)."
        )
    # Only ever used with DEBUG on a developer's machine; never a production value.
    SECRET_KEY = "insecure-development-key-only-for-debug"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",  # its widget templates, for FORM_RENDERER below
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc from our own static files, no CDN
    "rest_framework.authtoken",  # service accounts: a payroll or BI system calls with a token
    "django_celery_beat",
    "auditlog",
    "axes",
    # Our three floors, bottom up: calls (facts), incentives (plans and money), reports (what people see).
    "calls",
    "incentives",
    "reports",
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
    # A refusal (a domain error, a delete of something still referred to) that a page did not catch
    # is shown as a message on the page the person came from, in the API's words (calls.errors).
    "calls.errors.DomainErrorMiddleware",
    # Records who made each change to the organisation, plans and targets (AUDITLOG_* below).
    "auditlog.middleware.AuditlogMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Deny by default: a page is reachable only if its view names the roles it admits.
    "calls.roles.RoleRequiredMiddleware",
    # Log-in lockout (AXES_* below): last, so it sees every failed log-in of the request.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

# Forms are drawn by our templates (templates/forms/): label, help and errors in place.
FORM_RENDERER = "config.forms.FormRenderer"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "calls.roles.roles_context",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

DATABASES = {
    "default": env_database("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", default=60, minimum=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite: wait for a writer instead of failing at once with "database is locked". A transaction
    # takes the write lock when it begins (IMMEDIATE): one that read first and wrote later could not
    # wait for it, and two concurrent deletes answered a 500 (found by schemathesis).
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A session whose client died (a worker killed in the middle of a query) is ended within seconds,
    # not when its query ends: its transaction is rolled back and its locks freed for the next worker.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = (
        f"{_options.get('options', '')} -c client_connection_check_interval=5000".strip()
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked user/address pair before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Lockout (calls.lockout): after LOGIN_FAILURE_LIMIT failed log-ins for one user name from one address
# (the log-in page or the admin's), that pair is locked for LOGIN_COOLOFF_MINUTES; a success resets
# the count. TRUSTED_PROXIES: how many proxies in front append to X-Forwarded-For (0: none, the
# address is REMOTE_ADDR).
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", default=5, minimum=1)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", default=15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "calls.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "calls.lockout.client_ip"
AXES_VERBOSE = False
TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", default=0, minimum=0)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Language and time. Simplified Chinese first: the field this product serves speaks it.
LANGUAGE_CODE = env_str("LANGUAGE_CODE", default="zh-hans")
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
if LANGUAGE_CODE not in {code for code, _name in LANGUAGES}:
    raise ImproperlyConfigured(
        f"The environment variable LANGUAGE_CODE={LANGUAGE_CODE!r} is not one of zh-hans, en."
    )
LOCALE_PATHS = [BASE_DIR / "locale"]
# Numbers, money and dates follow the active language (Django's formats, with the few Chinese ones of
# config/formats/zh_Hans). USE_THOUSAND_SEPARATOR stays off: it would group every number a template
# prints, ids in links and years included; money is grouped where it is shown (the ``money`` filter).
FORMAT_MODULE_PATH = ["config.formats"]
USE_I18N = True
USE_TZ = True
# The contact center's own time zone: months, days and hours of the floor are counted in it.
TIME_ZONE = env_timezone("TIME_ZONE", default="Asia/Shanghai")
# Key of the customer-number hash (calls.privacy); defaults to SECRET_KEY. Set it on its own so that
# rotating SECRET_KEY does not make every earlier customer look new to repeat-contact matching.
CUSTOMER_KEY_SECRET = env_str("CUSTOMER_KEY_SECRET", default=None)
# The currency of payouts and its minor unit (see incentives.money.round_money).
CURRENCY = env_str("CURRENCY", default="CNY")

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", default=str(BASE_DIR / "media")))

# The cache carries live progress of imports from workers to pages: Redis when workers run on other
# hosts (CACHE_URL=redis://…), the process's memory in the embedded default.
_CACHE_URL = env_str("CACHE_URL", default=None)
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _CACHE_URL}
        if _CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
FILE_UPLOAD_MAX_MEMORY_SIZE = env_int("FILE_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440, minimum=0)
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440, minimum=0)

# HTTPS: on by default outside DEBUG; turn off only for a plain-HTTP test deployment.
HTTPS = env_bool("HTTPS", default=not DEBUG)
if HTTPS:
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", default=31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)
if env_bool("BEHIND_TLS_PROXY", default=False):
    # Only behind a proxy that sets this header itself; otherwise a client could claim HTTPS.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# The API: nothing is open unless a view says which roles it admits (calls.roles.HasRole).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        # "Authorization: Token <key>": a service account is a user with a role, like a person; its
        # token is created with `manage.py drf_create_token <username>` and revoked in the admin.
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["calls.roles.HasRole"],
    # Throttles (calls.throttling): anonymous callers by address, users by account; a 429 beyond.
    "DEFAULT_THROTTLE_CLASSES": ["calls.throttling.AnonThrottle", "calls.throttling.UserThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_rate("API_THROTTLE_ANON", default="60/minute"),
        "user": env_rate("API_THROTTLE_USER", default="600/minute"),
    },
    # The address DRF counts an anonymous caller by: X-Forwarded-For only as far as trusted proxies
    # wrote it (0: REMOTE_ADDR), so a forged header does not reset the count.
    "NUM_PROXIES": TRUSTED_PROXIES,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    # drf-spectacular's, adding the refusals every operation may answer (403, 404, 400, 409, 429).
    "DEFAULT_SCHEMA_CLASS": "calls.schema.AutoSchema",
    "COERCE_DECIMAL_TO_STRING": True,
    # One handler: a service's refusal is 400 or 409 with its message, a delete of something still
    # referred to a 409 naming what refers to it.
    "EXCEPTION_HANDLER": "calls.errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Contact-center incentives API",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["calls.roles.HasRole"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "LevelEnum": "incentives.models.Level",
        "ChannelEnum": "incentives.models.Channel",
        "MetricEnum": "calls.metrics.METRIC_CHOICES",
    },
}

# Celery. No broker configured is the embedded default: tasks run in process, at commit.
_BROKER_URL = env_str("CELERY_BROKER_URL", default=None)
CELERY_TASK_ALWAYS_EAGER = _BROKER_URL is None
# In process no broker is contacted; "memory://" keeps Celery from looking for one on localhost.
CELERY_BROKER_URL = _BROKER_URL or "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = True
# Without a broker, a task a page starts (an upload's import) runs in a thread of the web process, so
# that the page returns at once and shows its progress (calls.background).
EMBEDDED_TASKS_IN_THREAD = env_bool("EMBEDDED_TASKS_IN_THREAD", default=True)
CELERY_RESULT_BACKEND = None  # results of the money path live in our own tables, not in Celery
CELERY_TASK_IGNORE_RESULT = True
# A worker that dies mid-task must not lose it: acknowledge after the task, re-queue if the worker
# is lost, and take one message at a time so a long run does not hold others hostage.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", default="incentives")
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", default=3600, minimum=1)
# A computation run is split into chunks of whole teams holding at most this many agents: each chunk
# pays its queries once, so few large chunks are fast, while a big center still spreads over workers.
RUN_CHUNK_AGENTS = env_int("RUN_CHUNK_AGENTS", default=2000, minimum=1)
# Imports on PostgreSQL: a CSV file of at least IMPORT_PARALLEL_BYTES is loaded and checked in
# IMPORT_WORKERS parts at once, one database session each (set it to the database server's cores; 1
# turns it off). The final write sorts the rows by key in at most IMPORT_SORT_MEMORY of server memory.
IMPORT_WORKERS = env_int("IMPORT_WORKERS", default=min(4, os.cpu_count() or 1), minimum=1)
IMPORT_PARALLEL_BYTES = env_int("IMPORT_PARALLEL_BYTES", default=16 * 1024 * 1024, minimum=0)
IMPORT_SORT_MEMORY = env_str("IMPORT_SORT_MEMORY", default="256MB")
# An uploaded file is deleted once its import is final (applied, rejected, failed); with a number of
# days, it is kept that long for audit with its customer numbers replaced by their keys, then deleted.
IMPORT_FILE_RETENTION_DAYS = env_int("IMPORT_FILE_RETENTION_DAYS", default=0, minimum=0)
# Leaderboards (best agent of the month, quarterly top 3): with names, or anonymised — every agent then
# sees only their own name and the others' ranks.
LEADERBOARD_NAMED = env_bool("LEADERBOARD_NAMED", default=True)
# The agent's page shows their rank in the team for the month (where the company shows ranks).
SHOW_RANKS = env_bool("SHOW_RANKS", default=True)
# Leases (calls.leases): a worker claims an import or a run's chunk for WORK_LEASE_SECONDS and renews the
# claim while it works; work whose lease ran out lost its worker and is claimed again by the watchdog
# (every minute) or the next delivery. A killed worker thus costs at most the lease and a minute. Work
# that lost its worker WORK_LEASE_CLAIMS times fails with that reason.
WORK_LEASE_SECONDS = env_int("WORK_LEASE_SECONDS", default=120, minimum=4)
WORK_LEASE_CLAIMS = env_int("WORK_LEASE_CLAIMS", default=3, minimum=1)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis re-delivers an unacknowledged message (its worker died) after this many seconds; it must
# exceed the longest task, or a slow task would be run twice at once. The leases above give a dead
# worker's work to another long before; the message it leaves then finds the work done.
_VISIBILITY_TIMEOUT = env_int(
    "CELERY_VISIBILITY_TIMEOUT", default=CELERY_TASK_TIME_LIMIT + 600, minimum=1
)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": _VISIBILITY_TIMEOUT}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    # 02:00 on the 1st, center time: compute the month that has just ended.
    "compute-previous-month": {
        "task": "incentives.tasks.compute_previous_month",
        "schedule": crontab(minute=0, hour=2, day_of_month=1),
    },
    # Alerts on the floor: today's and this hour's rules, also between imports.
    "evaluate-alerts": {"task": "reports.tasks.evaluate_alerts", "schedule": crontab(minute="*/5")},
    # The watchdog: imports and run chunks whose worker died (lease run out) claimed again, or failed.
    "watchdog-imports": {"task": "calls.tasks.leases_sweep", "schedule": crontab(minute="*")},
    "watchdog-runs": {"task": "incentives.tasks.leases_sweep", "schedule": crontab(minute="*")},
    # Uploaded files past their retention (IMPORT_FILE_RETENTION_DAYS) deleted, any left in clear keyed.
    "sweep-import-files": {
        "task": "calls.tasks.import_files_sweep",
        "schedule": crontab(minute=30, hour=3),
    },
}

# The audit trail: every change HR makes to the organisation, plans and targets, with who, when, and
# the values before and after; HR reads it in the admin (Log entries), by object and by person.
AUDITLOG_INCLUDE_TRACKING_MODELS = (
    # Who may do what: logins (the password's change is recorded, never its hash; a log-in is not a
    # change), their roles (group membership) and the roles' permissions.
    {
        "model": "auth.User",
        "m2m_fields": {"groups", "user_permissions"},
        "exclude_fields": ["last_login"],
        "mask_fields": ["password"],
    },
    {"model": "auth.Group", "m2m_fields": {"permissions"}},
    # Imports: who imported a file (the page, the API or import_calls --user) and who rolled it back.
    {
        "model": "calls.ImportBatch",
        "include_fields": ["kind", "source", "filename", "status", "partial", "rolled_back_at"],
    },
    "incentives.Region",
    {"model": "incentives.Team", "m2m_fields": {"leads"}},
    "incentives.Group",
    "incentives.Agent",
    "incentives.Placement",
    "incentives.Plan",
    {"model": "incentives.PlanVersion", "m2m_fields": {"teams", "groups"}},
    "incentives.PlanMetric",
    "incentives.PlanTier",
    "incentives.PlanGate",
    "incentives.PlanAward",
    "incentives.TargetOverride",
    "incentives.Period",
    "incentives.PeriodReopening",
    "incentives.Adjustment",
    "incentives.Dispute",
    # The interview: a reopening (HR only) and every change after it are on the record.
    "incentives.Review",
    "incentives.RootCause",
    "incentives.ActionItem",
    "incentives.SkillMark",
    "incentives.AgreedTarget",
    "incentives.SharedSkill",
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", default="INFO")},
}
