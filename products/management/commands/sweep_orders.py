"""`python manage.py sweep_orders [--dry-run] [--since DATE] [--limit N] [--full]`: read the sales
orders changed since the last run into the evidence ledger (sale lines)."""

from __future__ import annotations

from products.management.commands._sweep import SweepCommand


class Command(SweepCommand):
    help = (
        "Orders sweep: record the items of sales orders changed since the last successful run "
        "(default on a first run: 30 days) as sale lines of the evidence ledger. --dry-run "
        "still records them (they are blingsync's own data, nothing is written to Bling)."
    )
    kind = "orders"
    what = "orders"
    detail_keys = ("orders_since", "orders", "sale_lines")
