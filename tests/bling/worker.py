"""A separate OS process for the multi-process tests and the rate-limit benchmark.

    python -m tests.bling.worker company        # one catalog.company_get()
    python -m tests.bling.worker calls 60       # 60 GET /empresas/me/dados-basicos

The environment names the database (DATABASE_URL) and the fake (BLING_API_BASE_URL,
BLING_CLIENT_ID, BLING_CLIENT_SECRET, BLING_RATE_PER_SECOND); WORKER_START_AT (epoch seconds)
makes every worker start at the same instant. Prints one JSON line with the outcome.
"""

from __future__ import annotations

import json
import os
import sys
import time


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from blingsync.bling import catalog
    from blingsync.bling.client import api_request
    from blingsync.bling.errors import BlingError

    action = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    start_at = float(os.environ.get("WORKER_START_AT") or 0)
    if start_at > time.time():
        time.sleep(start_at - time.time())
    result: dict = {"pid": os.getpid(), "ok": 0, "errors": []}
    started = time.time()
    for _ in range(count):
        try:
            if action == "company":
                result["company_id"] = catalog.company_get().id
            elif action == "calls":
                api_request("GET", "/empresas/me/dados-basicos")
            else:
                raise SystemExit(f"unknown action {action!r}")
            result["ok"] += 1
        except BlingError as exc:
            result["errors"].append(f"{type(exc).__name__}: {exc}")
    result["seconds"] = time.time() - started
    sys.stdout.write(json.dumps(result) + "\n")
    return 0 if not result["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
