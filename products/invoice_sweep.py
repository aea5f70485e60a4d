"""The invoices sweep (job kind `invoices`, `python manage.py sweep_invoices`): NF-e and
NFC-e sale lines for the evidence ledger.

Calls it makes, and nothing else, for each of `GET /nfe` (outgoing: `tipo=1`) and
`GET /nfce`:
- the list by `dataEmissaoInicial` (pages of 100; cancelled invoices are left out by Bling
  when `situacao` is omitted);
- the detail of each listed invoice that is new, or whose situation changed since it was
  read (`InvoiceRecord`), for its items;
- per list page, one batched product lookup (`GET /produtos?codigos[]`, every stock state)
  for the item codes blingsync's own code assignments do not know;
- the list of cancelled invoices (`situacao=2`) of the same period: invoices recorded before
  that were cancelled since stop counting, without a detail call.

The window starts at `since` (default: the last successful run; 30 days on a first run)
minus `SETTLE_WINDOW`: an invoice keeps its emission date while it goes from pending to
authorised, so the last days are listed again (list pages only: unchanged invoices cost no
detail). Dry-run still records the lines: they are blingsync's own evidence, not a change in
Bling.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from blingsync.bling import catalog
from blingsync.bling.errors import BlingNotFound
from blingsync.bling.types import Invoice, InvoiceSummary
from blingsync.connection import connection_require
from blingsync.jobrunner import JobContext, register_job
from products.invoice_evidence import (
    INVOICE_CANCELLED,
    invoice_cancelled_mark,
    invoice_codes_resolve,
    invoice_forget,
    invoice_lines_replace,
)
from products.models import InvoiceRecord, SaleLine

logger = logging.getLogger(__name__)

DEFAULT_WINDOW = timedelta(days=30)
SETTLE_WINDOW = timedelta(days=3)
KINDS = (SaleLine.Source.NFE, SaleLine.Source.NFCE)


@dataclass
class InvoiceSweepSummary:
    listed: int = 0
    list_pages: int = 0
    details: int = 0
    lookups: int = 0
    lines: int = 0
    unresolved: int = 0
    cancelled: int = 0
    gone: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


class _LimitReached(Exception):
    pass


@register_job("invoices")
def invoice_sweep_job(ctx: JobContext) -> None:
    invoice_sweep(ctx=ctx)


def invoice_sweep(*, ctx: JobContext) -> InvoiceSweepSummary:
    """Record the sale lines of the NF-e and NFC-e issued since `ctx.since`; returns counts."""
    connection_require()  # a sweep that cannot reach Bling must say so, not "0 seen"
    since = (ctx.since - SETTLE_WINDOW) if ctx.since else timezone.now() - DEFAULT_WINDOW
    ctx.note("invoices_since", since.isoformat())
    summary = InvoiceSweepSummary()
    codes: dict[str, int] = {}
    ctx.progress(0, None, "lendo notas fiscais")
    try:
        for kind in KINDS:
            _kind_sweep(ctx, summary, kind=str(kind), since=since, codes=codes)
    except _LimitReached:
        pass
    for key in ("listed", "list_pages", "details", "lookups", "lines", "unresolved"):
        ctx.note(f"invoices_{key}", getattr(summary, key))
    ctx.note("invoices_cancelled", summary.cancelled)
    ctx.note("invoices_by_kind", summary.by_kind)
    return summary


def _known(kind: str, ids: list[int]) -> dict[int, int | None]:
    rows = InvoiceRecord.objects.filter(source=kind, invoice_id__in=ids)
    return dict(rows.values_list("invoice_id", "situation"))


def _kind_sweep(
    ctx: JobContext, summary: InvoiceSweepSummary, *, kind: str, since, codes: dict[str, int]
) -> None:
    for page in catalog.invoice_pages(kind=kind, issued_since=since):
        summary.list_pages += 1
        summary.listed += len(page)
        known = _known(kind, [s.id for s in page])
        fresh = [s for s in page if s.id not in known or known[s.id] != s.situation]
        for s in page:
            ctx.count("seen")
            if s not in fresh:
                ctx.skip("invoice_unchanged")
        if ctx.limit:
            room = int(ctx.limit) - summary.details
            if room <= 0:
                raise _LimitReached
            fresh = fresh[:room]
        details = _details(ctx, summary, kind, fresh)
        wanted = {item.code for invoice in details for item in invoice.items if item.code}
        if wanted - set(codes):
            summary.lookups += 1
        invoice_codes_resolve(codes=wanted, known=codes)
        for invoice in details:
            recorded = invoice_lines_replace(invoice=invoice, products=codes)
            summary.lines += recorded.lines
            summary.unresolved += recorded.unresolved
            summary.by_kind[kind] = summary.by_kind.get(kind, 0) + 1
            ctx.count("changed")
        ctx.progress(summary.listed, None, "lendo notas fiscais")
        if ctx.limit and summary.details >= int(ctx.limit):
            raise _LimitReached
    for page in catalog.invoice_pages(kind=kind, issued_since=since, situation=INVOICE_CANCELLED):
        summary.list_pages += 1
        known = _known(kind, [s.id for s in page])
        for s in page:
            if s.id in known and known[s.id] != INVOICE_CANCELLED:
                invoice_cancelled_mark(source=kind, invoice_id=s.id)
                summary.cancelled += 1
                ctx.count("changed")


def _details(
    ctx: JobContext, summary: InvoiceSweepSummary, kind: str, fresh: list[InvoiceSummary]
) -> list[Invoice]:
    details = []
    for s in fresh:
        summary.details += 1
        try:
            details.append(catalog.invoice_get(kind=kind, invoice_id=s.id))
        except BlingNotFound:
            # Deleted between the list and the detail: its lines no longer count.
            invoice_forget(source=kind, invoice_id=s.id)
            summary.gone += 1
            ctx.skip("invoice_deleted")
    return details
