"""`python manage.py sweep_stock [--dry-run] [--since DATE] [--limit N] [--full]`: deactivate products
sold out by sales and reactivate the ones blingsync deactivated that have stock again."""

from __future__ import annotations

from products.management.commands._sweep import SweepCommand


class Command(SweepCommand):
    help = (
        "Sold-out sweep: deactivate products sold out by sales (SPEC 5.5) and reactivate the "
        "ones blingsync deactivated that have stock again."
    )
    kind = "stock"
    what = "products"
    detail_keys = ("verdicts", "rules", "list_pages", "balance_batches", "writes")
