"""`python manage.py sweep_invoices [--dry-run] [--since DATE] [--limit N] [--full]`: read the
NF-e and NFC-e issued since the last run into the evidence ledger (sale lines)."""

from __future__ import annotations

from products.management.commands._sweep import SweepCommand


class Command(SweepCommand):
    help = (
        "Invoices sweep: record the items of outgoing NF-e and of NFC-e issued since the last "
        "successful run (default on a first run: 30 days) as sale lines of the evidence "
        "ledger; cancelled, rejected and pending invoices do not count as sales. --dry-run "
        "still records them (they are blingsync's own data, nothing is written to Bling)."
    )
    kind = "invoices"
    what = "invoice details"
    detail_keys = (
        "invoices_since",
        "invoices_listed",
        "invoices_list_pages",
        "invoices_details",
        "invoices_lookups",
        "invoices_lines",
        "invoices_unresolved",
        "invoices_cancelled",
    )
