"""`python manage.py sync_categories`: mirror Bling's product categories (full paths,
removed ones marked) and attach the rules made for their names."""

from __future__ import annotations

from django.core.management.base import CommandParser

from products.management.commands._sweep import SweepCommand


class Command(SweepCommand):
    help = "Mirror Bling's product categories and attach category rules by name."
    kind = "categories"
    what = "categories"
    detail_keys = ("created", "updated", "removed", "restored", "rules_attached")

    def add_arguments(self, parser: CommandParser) -> None:
        # Mirroring writes nothing to Bling: there is no dry-run to ask for.
        parser.set_defaults(dry_run=False)
