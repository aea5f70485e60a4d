"""Settings for the test suite: the real settings, with test-only switches."""

import os

os.environ.setdefault("BLINGSYNC_TESTING", "1")
os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-used-anywhere-else-0123456789")

from blingsync.settings import *  # noqa: E402,F403
from blingsync.settings import BASE_DIR, DATABASES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file (not :memory:) so that threads and subprocesses in tests share the database.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "test_db.sqlite3")}
