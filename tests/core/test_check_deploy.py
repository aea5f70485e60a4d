"""`manage.py check --deploy` is clean with production-like settings."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_check_deploy_reports_no_warning(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_URL")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "blingsync.settings",
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "SECURE_HTTPS": "true",
            "ALLOWED_HOSTS": "blingsync.example.com",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        }
    )
    env.pop("BLINGSYNC_TESTING", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
