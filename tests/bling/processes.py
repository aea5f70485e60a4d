"""Starting `tests.bling.worker` processes against the test database and the fake."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The URL of the database this test runs on (the test database, not the dev one)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] or ""
    if db.get("PASSWORD"):
        auth += f":{db['PASSWORD']}"
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{auth}@{host}/{db['NAME']}"


def workers_run(
    fake, action: str, *, processes: int, count: int = 1, timeout: float = 300
) -> list[dict]:
    """Run `processes` workers at the same instant; returns their JSON results."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "BLING_API_BASE_URL": fake.base_url,
        "BLING_CLIENT_ID": fake.client_id,
        "BLING_CLIENT_SECRET": fake.client_secret,
        "BLING_RATE_PER_SECOND": str(settings.BLING_RATE_PER_SECOND),
        "BLING_RATE_MARGIN": str(settings.BLING_RATE_MARGIN),
        "SECRET_KEY": settings.SECRET_KEY,
        "TOKEN_ENCRYPTION_KEY": settings.TOKEN_ENCRYPTION_KEY,
        "WORKER_START_AT": str(time.time() + 2.5),
        "LOG_LEVEL": "WARNING",
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.bling.worker", action, str(count)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=timeout)
        lines = [line for line in out.splitlines() if line.startswith("{")]
        if not lines:
            raise AssertionError(f"worker failed (exit {proc.returncode}): {err[-2000:]}")
        results.append(json.loads(lines[-1]))
    return results
