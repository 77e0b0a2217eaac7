"""Test settings: the real settings, with only what tests must change.

The environment still decides the database and the broker (``DATABASE_URL``, ``CELERY_BROKER_URL``), so
``.ci/run`` runs the same suite on PostgreSQL and Redis.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-used-anywhere-else-0123456789")
os.environ.setdefault("HTTPS", "false")

from config.settings import *  # noqa: F403

# Hashing passwords slowly is a production virtue and a test-suite vice.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The manifest storage needs collectstatic first; tests render templates without it.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LANGUAGE_CODE = "en"
# Uploaded import files go to a throw-away folder, not into the project; a worker started by a test is
# given the test's folder (TEST_MEDIA_ROOT), to read the files the test uploaded.
MEDIA_ROOT = __import__("pathlib").Path(
    os.environ.get("TEST_MEDIA_ROOT")
    or __import__("tempfile").mkdtemp(prefix="incentives-test-media-")
)

# Embedded tasks run at commit in the request, so that a test reads their result at once
# (tests/calls/test_import_pages.py starts one in a thread on purpose).
EMBEDDED_TASKS_IN_THREAD = False

# One chunk per team in tests (a team is never split), so a test can finish, fail or kill one team's
# part of a run while the others wait.
RUN_CHUNK_AGENTS = 1

# The API's throttles stay on, at rates the suite never reaches (tests/test_throttling.py lowers them to
# see the 429). The log-in lockout keeps its production limit: tests/test_lockout.py reaches it.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"anon": "100000/minute", "user": "100000/minute"},
}
