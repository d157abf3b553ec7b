"""Settings for the portal, driven by environment variables.

Every variable is listed in README.md ("Configuration"). Readers in ``portal.env`` fail
loudly on malformed values. ``DJANGO_ENV=production`` refuses to start without secrets.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from portal.env import (
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_secret,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DJANGO_ENV = env_choice(
    "DJANGO_ENV", "development", choices=("development", "production", "test")
)
PRODUCTION = DJANGO_ENV == "production"

DEBUG = env_bool("DJANGO_DEBUG", not PRODUCTION)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DJANGO_DEBUG must be off when DJANGO_ENV=production")

SECRET_KEY = env_secret(
    "DJANGO_SECRET_KEY",
    "dev-only-insecure-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGH",
    required=PRODUCTION,
)
if PRODUCTION and len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be at least 50 characters")

# Tenants are served at <slug>.<TENANT_BASE_DOMAIN>; staff and public pages at PUBLIC_HOST.
PUBLIC_HOST = env_str("PORTAL_PUBLIC_HOST", "localhost")
TENANT_BASE_DOMAIN = env_str("PORTAL_TENANT_BASE_DOMAIN", PUBLIC_HOST)
PORTAL_SCHEME = env_choice(
    "PORTAL_SCHEME", "https" if PRODUCTION else "http", choices=("http", "https")
)
PORTAL_PORT = env_int("PORTAL_PORT", 0 if PRODUCTION else 8000, minimum=0)
ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS",
    [PUBLIC_HOST, f".{TENANT_BASE_DOMAIN}", "127.0.0.1"],
)

# --- Applications ------------------------------------------------------------------
# Where each app lives is decided once; moving one later needs --fake migrations.
SHARED_APPS = [
    # Before django_tenants only so that our create_tenant command wins over its own.
    "tenants",  # public: the tenant registry (Customer, Domain)
    "django_tenants",
    "tenants.accounts",  # both: users, invitations and audit live per schema
    "django.contrib.contenttypes",  # both: auth's permissions need it
    "django.contrib.auth",  # both: staff users in public, customer users per tenant
    "django.contrib.sessions",  # both: a session is only valid on its own host
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",  # both, next to auth (stack-notes §4.3 pitfall 1)
    "allauth.account",
    "allauth.mfa",
    "django_celery_beat",  # public: the beat schedule is global; tasks fan out
    "django_htmx",
    "template_partials",
    "portal",  # template tags and project-wide commands
    "billing",  # public: plans, usage ledger, FX rates, invoices
]
TENANT_APPS = [
    "tenants.accounts",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "mailops",  # tenant: ACS resources, domains, credentials, analytics
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Customer"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_NAME = "public"
ROOT_URLCONF = "portal.urls"
PUBLIC_SCHEMA_URLCONF = "portal.urls_public"
SHOW_PUBLIC_IF_NO_TENANT_FOUND = False
DATABASE_ROUTERS = ("django_tenants.routers.TenantSyncRouter",)
# New tenants are cloned from a migrated template schema when it exists (about 0.3 s
# instead of 0.7 s for running every migration); see bench/bench_provisioning.py.
TENANT_CREATION_FAKES_MIGRATIONS = env_bool("PORTAL_TENANT_CLONE_TEMPLATE", True)
if TENANT_CREATION_FAKES_MIGRATIONS:
    TENANT_BASE_SCHEMA = "tenant_template"
TENANT_MULTIPROCESSING_MAX_PROCESSES = env_int("PORTAL_MIGRATE_PROCESSES", 2, minimum=1)

MIDDLEWARE = [
    "django_tenants.middleware.main.TenantMainMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.middleware.JapaneseFirstLocaleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "portal.middleware.TenantStatusMiddleware",
    "portal.middleware.SupportSessionMiddleware",
    "portal.middleware.MfaRequiredMiddleware",
]

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
                "portal.context_processors.portal",
            ],
        },
    },
]

WSGI_APPLICATION = "portal.wsgi.application"

# --- Data stores ---------------------------------------------------------------------
DATABASE_URL = env_secret(
    "DATABASE_URL",
    "postgres://postgres@127.0.0.1:55432/portal",
    required=PRODUCTION,
)
try:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid URL: {exc}") from None
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_secret("REDIS_URL", "redis://127.0.0.1:56379/0", required=PRODUCTION)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        # User pks collide across tenant schemas; prefix every key with the schema.
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    }
}

# --- Accounts --------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_ADAPTER = "tenants.accounts.adapter.AccountAdapter"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Kakehashi] "
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = None
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Kakehashi Mail"
# Owners, admins and MSP staff must enrol TOTP. Demo installs may relax it.
PORTAL_MFA_REQUIRED = env_bool("PORTAL_MFA_REQUIRED", True)
PORTAL_INVITATION_DAYS = env_int("PORTAL_INVITATION_DAYS", 7, minimum=1)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("PORTAL_SESSION_SECONDS", 8 * 3600, minimum=300)

# --- Internationalisation ------------------------------------------------------------
LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True
LANGUAGE_COOKIE_NAME = "portal_language"
LANGUAGE_COOKIE_SAMESITE = "Lax"

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- Outgoing mail of the portal itself ----------------------------------------------
# Invitations, password resets and alerts go through ACS like every other mail.
EMAIL_BACKEND = env_str("PORTAL_EMAIL_BACKEND", "portal.mail_backend.AcsEmailBackend")
# Either a connection string, or the resource id whose keys are read through ARM.
PORTAL_MAIL_CONNECTION_STRING = env_secret("PORTAL_MAIL_CONNECTION_STRING", "")
PORTAL_MAIL_ACS_RESOURCE_GROUP = env_str("PORTAL_MAIL_RESOURCE_GROUP", "rg-portal")
PORTAL_MAIL_ACS_NAME = env_str("PORTAL_MAIL_ACS_NAME", "acs-portal-mail")
PORTAL_MAIL_EMAIL_SERVICE_NAME = env_str("PORTAL_MAIL_EMAIL_SERVICE", "es-portal-mail")
# Sender address; empty means DoNotReply@ the linked Azure-managed domain.
DEFAULT_FROM_EMAIL = env_str("PORTAL_MAIL_SENDER", "")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Azure ---------------------------------------------------------------------------
# One switch chooses where the single adapter connects, never which code runs.
AZURE_TARGET = env_choice("AZURE_TARGET", "emulator", choices=("emulator", "azure"))
AZURE_EMULATOR_URL = env_str("AZURE_EMULATOR_URL", "https://127.0.0.1:8443").rstrip("/")
AZURE_TENANT_ID = env_str("AZURE_TENANT_ID", "00000000-0000-0000-0000-0000000000aa")
AZURE_CLIENT_ID = env_str("AZURE_CLIENT_ID", "00000000-0000-0000-0000-0000000000c1")
AZURE_CLIENT_SECRET = env_secret(
    "AZURE_CLIENT_SECRET",
    "emulator-portal-secret" if AZURE_TARGET == "emulator" else "",
    required=PRODUCTION and AZURE_TARGET == "azure",
)
AZURE_SUBSCRIPTION_ID = env_str(
    "AZURE_SUBSCRIPTION_ID", "00000000-0000-0000-0000-000000000001"
)
AZURE_LOG_WORKSPACE_ID = env_str(
    "AZURE_LOG_WORKSPACE_ID", "11111111-2222-3333-4444-555555555555"
)
AZURE_TIMEOUT_SECONDS = env_int("AZURE_TIMEOUT_SECONDS", 30, minimum=1)
if AZURE_TARGET == "emulator":
    AZURE_AUTHORITY = AZURE_EMULATOR_URL
    AZURE_ARM_URL = AZURE_EMULATOR_URL
    AZURE_GRAPH_URL = AZURE_EMULATOR_URL
    AZURE_LOGS_URL = AZURE_EMULATOR_URL
    AZURE_METRICS_URL = AZURE_EMULATOR_URL
    AZURE_DISABLE_INSTANCE_DISCOVERY = True
    _ca = env_str("AZURE_CA_BUNDLE", str(BASE_DIR / ".local" / "emulator" / "ca.pem"))
    AZURE_CA_BUNDLE: str | bool = _ca
else:
    AZURE_AUTHORITY = env_str("AZURE_AUTHORITY", "https://login.microsoftonline.com")
    AZURE_ARM_URL = env_str("AZURE_ARM_URL", "https://management.azure.com")
    AZURE_GRAPH_URL = env_str("AZURE_GRAPH_URL", "https://graph.microsoft.com")
    AZURE_LOGS_URL = env_str("AZURE_LOGS_URL", "https://api.loganalytics.io")
    AZURE_METRICS_URL = env_str(
        "AZURE_METRICS_URL", "https://japaneast.metrics.monitor.azure.com"
    )
    AZURE_DISABLE_INSTANCE_DISCOVERY = False
    AZURE_CA_BUNDLE = env_str("AZURE_CA_BUNDLE", "") or True

# DNS checks of sending domains and the ACS SMTP relay for device credentials.
if AZURE_TARGET == "emulator":
    _dns_host, _, _dns_port = env_str("EMULATOR_DNS", "127.0.0.1:5354").partition(":")
    DNS_NAMESERVERS = [_dns_host]
    DNS_PORT = int(_dns_port or 53)
    _smtp_host, _, _smtp_port = env_str("EMULATOR_SMTP", "127.0.0.1:2587").partition(
        ":"
    )
    ACS_SMTP_HOST = _smtp_host
    ACS_SMTP_PORT = int(_smtp_port or 587)
else:
    # Empty: the system resolver from /etc/resolv.conf.
    DNS_NAMESERVERS = env_list("PORTAL_DNS_NAMESERVERS")
    DNS_PORT = env_int("PORTAL_DNS_PORT", 53, minimum=1)
    ACS_SMTP_HOST = env_str("ACS_SMTP_HOST", "smtp.azurecomm.net")
    ACS_SMTP_PORT = env_int("ACS_SMTP_PORT", 587, minimum=1)
# Longest lifetime of a device's client secret (the Entra portal's maximum).
CREDENTIAL_MAX_MONTHS = env_int("PORTAL_CREDENTIAL_MAX_MONTHS", 24, minimum=1)
# Days before expiry on which admins are reminded.
CREDENTIAL_REMINDER_DAYS = (60, 30, 7)

# Delivery analytics ingestion from Log Analytics (see mailops/analytics/ingest.py).
ANALYTICS_INGEST_OVERLAP_MINUTES = env_int(
    "ANALYTICS_INGEST_OVERLAP_MINUTES", 30, minimum=0
)
ANALYTICS_INGEST_LAG_SECONDS = env_int("ANALYTICS_INGEST_LAG_SECONDS", 60, minimum=0)
ANALYTICS_INGEST_ROW_BUDGET = env_int("ANALYTICS_INGEST_ROW_BUDGET", 50000, minimum=10)
ANALYTICS_INGEST_RETRY_SECONDS = env_int("ANALYTICS_INGEST_RETRY_SECONDS", 1, minimum=0)
# Database connections that merge one run's windows side by side (split by message).
ANALYTICS_INGEST_MERGE_STREAMS = env_int("ANALYTICS_INGEST_MERGE_STREAMS", 2, minimum=1)
# Bulk notifications: uploaded recipient lists are kept outside MEDIA/STATIC (never
# served) until imported or discarded. Files above the sync limit are validated by a
# worker; smaller ones in the request that confirms the encoding.
PORTAL_PRIVATE_MEDIA_DIR = Path(
    env_str("PORTAL_PRIVATE_MEDIA_DIR", str(BASE_DIR / ".local" / "private"))
)
RECIPIENT_LIST_MAX_BYTES = env_int(
    "RECIPIENT_LIST_MAX_BYTES", 200 * 1024 * 1024, minimum=1024
)
RECIPIENT_LIST_SYNC_MAX_BYTES = env_int(
    "RECIPIENT_LIST_SYNC_MAX_BYTES", 256 * 1024, minimum=0
)
# Bulk notification sending engine (mailops/campaigns/): Redis for the rate
# limiter and dispatcher leases; dispatcher tasks per campaign running at once;
# how long one task runs before it re-enqueues itself; after how long a row
# claimed by a worker that died is sent again (same Operation-Id); concurrent
# sends per task.
CAMPAIGN_REDIS_URL = env_str("CAMPAIGN_REDIS_URL", REDIS_URL)
CAMPAIGN_DISPATCHERS = env_int("CAMPAIGN_DISPATCHERS", 2, minimum=1)
CAMPAIGN_TASK_SECONDS = env_int("CAMPAIGN_TASK_SECONDS", 50, minimum=1)
CAMPAIGN_SENDING_LEASE_SECONDS = env_int(
    "CAMPAIGN_SENDING_LEASE_SECONDS", 120, minimum=1
)
CAMPAIGN_SEND_CONCURRENCY = env_int("CAMPAIGN_SEND_CONCURRENCY", 48, minimum=1)
# Staff overview's projected charge when no billing price book/FX rate exists yet.
SUPPORT_FALLBACK_JPY_PER_USD = env_int("SUPPORT_FALLBACK_JPY_PER_USD", 150, minimum=1)

# --- Celery --------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# Seconds before a task retries a retryable Azure error (429, 5xx, network).
PORTAL_TASK_RETRY_SECONDS = env_int("PORTAL_TASK_RETRY_SECONDS", 20, minimum=0)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE

# --- Security ------------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
CSRF_COOKIE_HTTPONLY = False  # htmx reads it through hx-headers on <body>, not JS
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("PORTAL_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("PORTAL_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("PORTAL_HSTS_PRELOAD", True)
    if env_bool("PORTAL_BEHIND_TLS_PROXY", True):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    CSRF_TRUSTED_ORIGINS = env_list(
        "DJANGO_CSRF_TRUSTED_ORIGINS",
        [f"https://{PUBLIC_HOST}", f"https://*.{TENANT_BASE_DOMAIN}"],
    )
    if AZURE_TARGET == "emulator":
        raise ImproperlyConfigured("AZURE_TARGET=emulator is not allowed in production")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("PORTAL_LOG_LEVEL", "INFO")},
    "loggers": {
        # The Azure SDK logs request headers at DEBUG; keep it quiet so keys never leak.
        "azure": {"level": "WARNING"},
        "django.db.backends": {"level": "INFO"},
    },
}
