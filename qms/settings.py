"""Settings. Everything that differs between machines comes from the environment (12-factor).

Quick start (no variables set): DEBUG on, embedded SQLite, jobs run in-process.
Production: set SECRET_KEY, DEBUG=0, ALLOWED_HOSTS, DATABASE_URL, REDIS_URL, EMAIL_URL-style EMAIL_* variables.
"""

import os
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise RuntimeError("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-dev-key-only-for-the-quick-start-never-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
# Reverse proxies (addresses or networks) whose X-Forwarded-For is believed for the access log's client address.
QMS_TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_fsm",
    "axes",
    "rest_framework",
    "drf_spectacular",
    "django_filters",
    # Bottom to top, as the layers in shared/DESIGN.md.
    "qms.core",
    "compliance",
    "documents",
    "suppliers",
    "traceability",
    "inspection",
    "nonconformance",
    "capa",
    "batchrecords",
    "monitoring",
    "changes",
    "audits",
    "packs",
    "api",
    "qms.portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "qms.core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "qms.core.middleware.SiteScopeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "qms.core.middleware.AuditUserMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns an axes lock-out into the sign-in page's answer
]

ROOT_URLCONF = "qms.urls"
WSGI_APPLICATION = "qms.wsgi.application"

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
                "qms.core.context_processors.shell",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the in-process job loop and the web server share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "portal:dashboard"
LOGOUT_REDIRECT_URL = "core:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Lock-out: this many failed logins or signatures lock the account for LOCKOUT_MINUTES (21 CFR 11.300(d)).
LOCKOUT_THRESHOLD = int(os.environ.get("LOCKOUT_THRESHOLD", "5"))
LOCKOUT_MINUTES = int(os.environ.get("LOCKOUT_MINUTES", "15"))
# Sign-in throttle (django-axes) per client address and per username, same threshold and cool-off; the
# account lock above stays the kernel's (see qms/core/security.py for how the two share the work).
AUTHENTICATION_BACKENDS = ["qms.core.security.AxesBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = LOCKOUT_THRESHOLD
AXES_COOLOFF_TIME = timedelta(minutes=LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
# Failures expire after the cool-off instead of being cleared by a success: a success would also clear the
# address's count, letting someone with one account reset the throttle between guesses at others.
AXES_RESET_ON_SUCCESS = False
AXES_DISABLE_ACCESS_LOG = True  # sign-ins are in the compliance access log already
AXES_LOCKOUT_CALLABLE = "qms.core.views.login_locked_out"
AXES_CLIENT_IP_CALLABLE = "qms.core.security.client_ip"
AXES_USERNAME_CALLABLE = "qms.core.security.axes_username"
AXES_VERBOSE = False
# Reverse proxies in front that append to X-Forwarded-For (0: use the socket address).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
# Password-reset requests per client address and per e-mail address per hour.
PASSWORD_RESET_PER_HOUR = int(os.environ.get("PASSWORD_RESET_PER_HOUR", "5"))
PASSWORD_RESET_TIMEOUT = int(os.environ.get("PASSWORD_RESET_HOURS", "2")) * 3600
# The admin site's path (default admin/); a less guessable one keeps scanners away.
ADMIN_URL = (os.environ.get("ADMIN_URL", "").strip().strip("/") or "admin") + "/"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
WHITENOISE_USE_FINDERS = DEBUG  # serve straight from the app folders in the quick start
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
# Audit-trail anchors (docs/audit-trail.md): the checkpoint signing key (a file path or the value; unset, a
# key derived from SECRET_KEY for the quick start, which `check --deploy` warns about) and the append-only
# log file the checkpoints are also written to. Keep both outside the database host and its backups.
AUDIT_ANCHOR_KEY = os.environ.get("AUDIT_ANCHOR_KEY", "")
AUDIT_ANCHOR_LOG = Path(os.environ.get("AUDIT_ANCHOR_LOG", BASE_DIR / "var" / "audit-anchors.jsonl"))
# The PostgreSQL login role the application runs as in production (SELECT/INSERT only on evidence tables);
# migrations, run as the owner, re-apply its grants when the role exists.
QMS_APP_DB_ROLE = os.environ.get("QMS_APP_DB_ROLE", "qms_app")
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Sessions: short idle timeout, renewed on every request.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_IDLE_MINUTES", "30")) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
# The language cookie: no script reads it (the switcher is a form), so HttpOnly; Secure in production.
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = not DEBUG
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# E-mail: console in the quick start, SMTP when EMAIL_HOST is set.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "qms@localhost")

# Celery: a real broker when REDIS_URL is set, otherwise tasks run in-process (eager).
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 3  # a request publishing to a dead broker gives up fast; the outbox keeps the job
# An outbox job published but not delivered after this long is published again (delivery is idempotent).
OUTBOX_REPUBLISH_SECONDS = int(os.environ.get("OUTBOX_REPUBLISH_SECONDS", "600"))
# After a failed publish a process leaves the outbox to the drain for this long (requests stay fast).
OUTBOX_BROKER_PAUSE_SECONDS = int(os.environ.get("OUTBOX_BROKER_PAUSE_SECONDS", "10"))
OUTBOX_KEEP_DAYS = int(os.environ.get("OUTBOX_KEEP_DAYS", "7"))  # delivered jobs are forgotten after this

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Content Security Policy: everything from this origin, nothing inline, no third party.
CONTENT_SECURITY_POLICY = os.environ.get(
    "CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
)

# Integration API (api/, docs/integration.md): DRF with token service accounts, problem details, per-token
# throttling. Browser sessions may read the API (the docs page's "try it"); writes need a token.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.auth.TokenAuthentication", "api.auth.SessionReadAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.DeclaredPermission"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_token": os.environ.get("API_THROTTLE_RATE", "6000/min")},
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pagination",
    "PAGE_SIZE": 100,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "api.problems.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "COERCE_DECIMAL_TO_STRING": True,
}
from api.schema_text import DESCRIPTION as API_DESCRIPTION  # noqa: E402 - plain strings, no Django
from api.schema_text import TAGS as API_TAGS  # noqa: E402

SPECTACULAR_SETTINGS = {
    "TITLE": "QMS Portal integration API",
    "DESCRIPTION": API_DESCRIPTION,
    "TAGS": API_TAGS,
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "api.schema.add_problem_responses"],
}
# A webhook subscription is disabled after this many consecutive failed deliveries (its owner is told).
API_WEBHOOK_MAX_FAILURES = int(os.environ.get("API_WEBHOOK_MAX_FAILURES", "10"))
# Webhook receivers: when set, only these hosts (names, ".domain" suffixes, IP networks in CIDR); unset, any
# host not on loopback, link-local, multicast or reserved addresses (api/webhook_address.py).
API_WEBHOOK_ALLOWED_HOSTS = env_list("API_WEBHOOK_ALLOWED_HOSTS", "")
API_WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("API_WEBHOOK_TIMEOUT_SECONDS", "5"))
API_IDEMPOTENCY_KEEP_DAYS = int(os.environ.get("API_IDEMPOTENCY_KEEP_DAYS", "7"))
API_WEBHOOK_LOG_KEEP_DAYS = int(os.environ.get("API_WEBHOOK_LOG_KEEP_DAYS", "90"))

# Released lots one history import from the lots import page may release (each is signed and chained, about
# 15 ms; more would outlast the request): larger loads run with `manage.py import_data --released-as-history`.
QMS_HISTORY_IMPORT_PAGE_MAX = int(os.environ.get("QMS_HISTORY_IMPORT_PAGE_MAX", "1000"))

# Seeded demo logins are refused outside the quick start unless this is set.
QMS_DEMO = env_bool("QMS_DEMO", DEBUG)
# Currency of parts' standard costs (scrap and rework cost KPIs): one per installation, ISO 4217 code.
QMS_CURRENCY = os.environ.get("QMS_CURRENCY", "CNY")
QMS_SITE_NAME = os.environ.get("QMS_SITE_NAME", "QMS Portal")
# Hours an inspection has before it is overdue, from the lot's receipt (IQC) or its creation (FAI, FQC);
# IPQC checks are due at their schedule's time.
QMS_INSPECTION_DUE_HOURS = {
    "IQC": int(os.environ.get("QMS_IQC_DUE_HOURS", "24")),
    "FAI": int(os.environ.get("QMS_FAI_DUE_HOURS", "2")),
    "FQC": int(os.environ.get("QMS_FQC_DUE_HOURS", "8")),
}
# Exports: a PDF lists at most this many entries, a safety net far above what a reader pages through (the
# audit-trail and access-log PDFs are drawn in bounded memory, ~3 ms per entry; CSV/XLSX have no limit); a person runs at most this many
# exports at once; without a worker (no REDIS_URL) an export runs in a thread beside the request.
QMS_PDF_MAX_ENTRIES = int(os.environ.get("QMS_PDF_MAX_ENTRIES", "100000"))
# The CJK font of the long tabular PDFs (audit trail, access log); empty: fonts-wqy-microhei.
QMS_PDF_FONT = os.environ.get("QMS_PDF_FONT", "")
QMS_MAX_ACTIVE_EXPORTS = int(os.environ.get("QMS_MAX_ACTIVE_EXPORTS", "2"))
QMS_EXPORTS_IN_THREAD = not REDIS_URL

# Hostile and careless input (README "Limits"). Imports: file size and data rows per file.
QMS_IMPORT_MAX_BYTES = int(os.environ.get("QMS_IMPORT_MAX_BYTES", 5 * 1024 * 1024))
QMS_IMPORT_MAX_ROWS = int(os.environ.get("QMS_IMPORT_MAX_ROWS", 10_000))
# Uploads, per use (qms.core.uploads.USES); files are content-sniffed and stored under MEDIA_ROOT.
QMS_UPLOAD_MAX_BYTES = {
    "certificate": int(os.environ.get("QMS_UPLOAD_MAX_BYTES_CERTIFICATE", 10 * 1024 * 1024)),
    "ppap": int(os.environ.get("QMS_UPLOAD_MAX_BYTES_PPAP", 20 * 1024 * 1024)),
    "attachment": int(os.environ.get("QMS_UPLOAD_MAX_BYTES_ATTACHMENT", 10 * 1024 * 1024)),
    "photo": int(os.environ.get("QMS_UPLOAD_MAX_BYTES_PHOTO", 5 * 1024 * 1024)),
    "document": int(os.environ.get("QMS_UPLOAD_MAX_BYTES_DOCUMENT", 20 * 1024 * 1024)),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
        "axes": {"level": "WARNING"},  # every attempt is INFO; lock-outs are WARNING
    },
}

# Under pytest: N+1 queries in any view fail the test (django-zeal).
TESTING = "pytest" in os.path.basename(sys.argv[0]) or "pytest" in sys.argv[0] or env_bool("QMS_TESTING", False)
if TESTING:
    INSTALLED_APPS.append("zeal")
    MIDDLEWARE.append("zeal.middleware.zeal_middleware")
    ZEAL_RAISE = True
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast hashing for tests only
    MEDIA_ROOT = Path(os.environ.get("QMS_TEST_MEDIA", "/tmp/qms-test-media"))
    # Tasks run in-process so tests see their effects; Redis still backs the cache.
    CELERY_TASK_ALWAYS_EAGER = True
    QMS_EXPORTS_IN_THREAD = False
