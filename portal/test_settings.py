"""Settings for pytest: fast hashing, local cache, Azure pointed at the test emulator."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_ENV", "test")

from portal.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    }
}
# Unit tests assert on mail content; delivery through ACS is tested against the
# emulator in tests/integration with the real backend.
# A real worker started by tests/integration overrides these through the environment.
EMAIL_BACKEND = env_str(  # noqa: F405
    "PORTAL_TEST_EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend"
)
DEFAULT_FROM_EMAIL = env_str("PORTAL_TEST_FROM_EMAIL", "DoNotReply@portal.test")  # noqa: F405
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", True)  # noqa: F405
CELERY_TASK_EAGER_PROPAGATES = True
# Tests use their own Redis database so a `make run` worker never takes their tasks.
CELERY_BROKER_URL = env_str(  # noqa: F405
    "PORTAL_TEST_BROKER_URL",
    REDIS_URL.rsplit("/", 1)[0] + "/15",  # noqa: F405
)
# The campaign rate limiter and dispatcher leases share the test broker's Redis DB.
CAMPAIGN_REDIS_URL = CELERY_BROKER_URL
PORTAL_MFA_REQUIRED = True
STORAGES["staticfiles"]["BACKEND"] = (  # noqa: F405
    "django.contrib.staticfiles.storage.StaticFilesStorage"
)

# Several suites can run at once on one machine (e.g. developers' parallel work):
# PORTAL_TEST_DB_NAME gives each its own test database.
DATABASES["default"]["TEST"] = {  # noqa: F405
    "NAME": env_str("PORTAL_TEST_DB_NAME", "test_" + DATABASES["default"]["NAME"])  # noqa: F405
}
