"""`virtual_stock.updated` with `vinculoComplexo: true`: the linked products' balances.

When more than 200 linked products (components of a composition, or compositions that
contain a component) had their virtual stock updated, Bling sends one event for the product
with `vinculoComplexo: true` and no per-product balances, and asks integrations to fetch
them through the API (bling-v3.md 8.4). blingsync finds the linked products with
- the compositions that contain the product: `GET /produtos?tipo=E&idComponente=` (pages of
  100, every situation and stock state), and
- the product's own components, when it is a composition (`estrutura.componentes` of its
  detail),
then reads their balances 100 at a time (`GET /estoques/saldos`, the deposit staff chose),
records each as a balance-only movement of the ledger (what a per-product event would have
carried), and asks for a sold-out evaluation of those whose verdict may change: available
stock zero or less, or back in stock after blingsync deactivated them. A product in stock
that blingsync did not deactivate needs no evaluation (the rule keeps it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from blingsync.bling import catalog
from blingsync.bling.errors import BlingNotFound
from blingsync.models import RuntimeSettings
from products.evidence import VIRTUAL_STOCK_EVENT, stock_movement_record
from products.models import ProductStockState

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LinkedStock:
    linked: int  # linked products found
    balances: int  # balances Bling returned for them
    to_evaluate: list[int]  # products whose sold-out verdict may change


def linked_stock_refresh(*, product_id: int, occurred_at: datetime, event_id: str) -> LinkedStock:
    """Fetch the balances of the products linked to `product_id` and record them; returns
    which of them need a sold-out evaluation."""
    linked: set[int] = {p.id for p in catalog.compositions_with_component(component_id=product_id)}
    try:
        linked.update(catalog.product_component_ids(product_id=product_id))
    except BlingNotFound:
        logger.info("product %s of a vinculoComplexo event no longer exists", product_id)
    linked.discard(product_id)
    ids = sorted(linked)
    if not ids:
        return LinkedStock(linked=0, balances=0, to_evaluate=[])
    deposit_id = RuntimeSettings.load().stock_deposit_id
    balances = catalog.stock_balances(product_ids=ids, deposit_id=deposit_id)
    available: dict[int, Decimal] = {}
    for balance in balances:
        if balance.product_id not in linked:
            continue
        available[balance.product_id] = balance.available_total
        deposit = next(
            (d for d in balance.deposits if deposit_id and d.deposit_id == deposit_id), None
        )
        stock_movement_record(
            product_id=balance.product_id,
            deposit_id=deposit_id if deposit else None,
            operation="",
            quantity=None,
            deposit_physical=deposit.physical if deposit else None,
            deposit_virtual=deposit.available if deposit else None,
            physical_total=balance.physical_total,
            virtual_total=balance.available_total,
            occurred_at=occurred_at,
            event_id=event_id,
            event_type=VIRTUAL_STOCK_EVENT,
        )
    ours = set(
        ProductStockState.objects.filter(
            bling_product_id__in=ids, deactivated_by_blingsync=True
        ).values_list("bling_product_id", flat=True)
    )
    # Missing from the answer: Bling left it out (its default stock filter hides zero and
    # negative balances), so it is evaluated, which re-reads it.
    to_evaluate = [
        pid
        for pid in ids
        if pid not in available or available[pid] <= 0 or (pid in ours and available[pid] > 0)
    ]
    return LinkedStock(linked=len(ids), balances=len(available), to_evaluate=to_evaluate)
