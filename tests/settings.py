"""Settings for the test suite: the real settings, with test-only switches."""

import os

os.environ.setdefault("BLINGSYNC_TESTING", "1")
os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-used-anywhere-else-0123456789")

from blingsync.settings import *  # noqa: E402,F403
from blingsync.settings import BASE_DIR, DATABASES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file (not :memory:) so that threads and subprocesses in tests share the database.
    # One file per test run (inherited by subprocesses through the environment), so parallel
    # runs in one checkout do not share it.
    _name = os.environ.setdefault("BLINGSYNC_TEST_DB", f"test_db_{os.getpid()}.sqlite3")
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / _name)}
