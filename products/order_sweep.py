"""The orders sweep (job kind `orders`, `python manage.py sweep_orders`): sale lines for the
evidence ledger.

`GET /pedidos/vendas` by `dataAlteracaoInicial` (since the last successful run, or
`DEFAULT_WINDOW` on a first run) lists the orders changed, without items; each order's detail
(`GET /pedidos/vendas/{id}`) gives them: 1 + N calls, the least the API allows (the list has
no product filter and no items). Re-reading an order replaces its lines, so the sweep is
idempotent and a rerun changes nothing.

Dry-run still records the sale lines: they are blingsync's own evidence, not a change in
Bling, and a dry-run stock sweep is only meaningful with them.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone

from blingsync.bling import catalog
from blingsync.bling.errors import BlingNotFound
from blingsync.connection import connection_require
from blingsync.jobrunner import JobContext, register_job
from products.evidence import order_forget, order_lines_replace, order_situation_names

logger = logging.getLogger(__name__)

DEFAULT_WINDOW = timedelta(days=30)


@register_job("orders")
def order_sweep_job(ctx: JobContext) -> None:
    order_sweep(ctx=ctx)


def order_sweep(*, ctx: JobContext) -> dict[str, int]:
    """Record the sale lines of every order changed since `ctx.since`; returns counts."""
    connection_require()  # a sweep that cannot reach Bling must say so, not "0 seen"
    since = ctx.since or timezone.now() - DEFAULT_WINDOW
    ctx.note("orders_since", since.isoformat())
    situations: dict[int, str] | None = None
    counts = {"orders": 0, "lines": 0, "gone": 0}
    ctx.progress(0, None, "lendo pedidos")
    for summary in catalog.orders_iter(changed_since=since):
        if ctx.limit and counts["orders"] >= int(ctx.limit):
            break
        counts["orders"] += 1
        ctx.count("seen")
        try:
            order = catalog.order_get(order_id=summary.id)
        except BlingNotFound:
            # Deleted between the list and the detail: its lines no longer count.
            order_forget(order_id=summary.id)
            counts["gone"] += 1
            ctx.skip("order_deleted")
            continue
        if situations is None:
            situations = order_situation_names(run_id=ctx.run.pk)
        counts["lines"] += order_lines_replace(order=order, situations=situations)
        ctx.count("changed")
        ctx.progress(counts["orders"], None, "lendo pedidos")
    ctx.note("orders", counts["orders"])
    ctx.note("sale_lines", counts["lines"])
    return counts
