"""A process killed between a Bling write and its outcome (for the intent tests; not a test).

    python -m tests.products.kill_worker stock    # sweep_stock; dies right after the batch
                                                  # situation call returns
    python -m tests.products.kill_worker codes    # sweep_codes; dies right after the first
                                                  # code PATCH returns

The write reaches the fake and is answered; then the process ends with os._exit (no
`finally`, no outcome recorded): what a SIGKILL, an out-of-memory kill or a deploy does.
The environment names the database and the fake like `tests.bling.worker`.
"""

from __future__ import annotations

import io
import os
import sys


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from blingsync.bling import catalog

    action = sys.argv[1]
    writes = {"stock": "products_situation_set", "codes": "product_code_set"}
    if action not in writes:
        raise SystemExit(f"unknown action {action!r}")
    original = getattr(catalog, writes[action])

    def write_then_die(**kwargs):
        original(**kwargs)
        os._exit(9)

    setattr(catalog, writes[action], write_then_die)
    call_command(f"sweep_{action}", stdout=io.StringIO())
    return 0  # not reached when a write happened


if __name__ == "__main__":
    sys.exit(main())
