"""`python manage.py sweep_codes [--dry-run] [--since DATE] [--limit N] [--full]`: give every product
without a code the next code of its category's prefix (SPEC 5.4, 5.7)."""

from __future__ import annotations

from products.management.commands._sweep import SweepCommand


class Command(SweepCommand):
    help = (
        "Code sweep: retry codes that could not be written, then list the products of every "
        "category that generates codes and give the ones without a code their code."
    )
    kind = "codes"
    what = "products coded"
    detail_keys = ("categories", "retried", "coded", "duration_seconds")
