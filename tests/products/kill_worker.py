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
    if action == "stock":
        original = catalog.products_situation_set

        def situations_then_die(**kwargs):
            original(**kwargs)
            os._exit(9)

        catalog.products_situation_set = situations_then_die
        call_command("sweep_stock", stdout=io.StringIO())
    elif action == "codes":
        original_code = catalog.product_code_set

        def code_then_die(**kwargs):
            original_code(**kwargs)
            os._exit(9)

        catalog.product_code_set = code_then_die
        call_command("sweep_codes", stdout=io.StringIO())
    else:
        raise SystemExit(f"unknown action {action!r}")
    return 0  # not reached when a write happened


if __name__ == "__main__":
    sys.exit(main())
