"""`python manage.py seed_counters [--dry-run]`: raise each code counter to at least the
highest number already used in Bling for its prefix (SPEC 5.4)."""

from __future__ import annotations

from django.core.management.base import CommandParser

from products.management.commands._sweep import SweepCommand


class Command(SweepCommand):
    help = (
        "Read the codes already in Bling and raise each counter to at least the highest "
        "number in use for its prefix (counters are never lowered)."
    )
    kind = "seed_counters"
    what = "products"
    detail_keys = ("codes_read", "raised")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="report what would be raised; change nothing"
        )
