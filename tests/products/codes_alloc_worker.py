"""A separate OS process allocating codes, for the concurrency tests (not a test module).

    python -m tests.products.codes_alloc_worker PREFIX COUNT FIRST_PRODUCT_ID [STEP]

Allocates COUNT codes of PREFIX for products FIRST_PRODUCT_ID, +STEP, ... (the same product
ids in several workers make them race for the same products). DATABASE_URL names the test
database; WORKER_START_AT (epoch seconds) makes every worker start at the same instant.
Prints one JSON line: {"codes": {product_id: code}, "errors": [...]}.
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
    from products.codes import code_allocate

    prefix, count, first = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    step = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    start_at = float(os.environ.get("WORKER_START_AT") or 0)
    if start_at > time.time():
        time.sleep(start_at - time.time())
    codes: dict[int, str] = {}
    errors: list[str] = []
    for i in range(count):
        pid = first + i * step
        try:
            codes[pid] = code_allocate(product_id=pid, prefix=prefix).code
        except Exception as exc:  # reported to the test, which fails on any
            errors.append(f"{pid}: {type(exc).__name__}: {exc}")
    sys.stdout.write(json.dumps({"pid": os.getpid(), "codes": codes, "errors": errors}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
