"""Helpers for the sold-out tests: a retailer-like category tree mirrored from the fake, and
what happens in Bling when stock moves or an order is placed (the fake's balances change and
the ledger records what the webhook would carry).

Bling sends `stock.updated` after every stock posting; the webhook processing (another module,
tested on its own) hands its `data` to `stock_movement_from_payload`. Here the same payload is
built from the fake's balances and recorded directly, so these tests exercise the ledger and
the rule without the HTTP receiver in between.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from blingsync.models import RuntimeSettings
from products.category_sync import categories_sync
from products.evidence import order_record, stock_movement_from_payload
from tests.fakebling import FakeBling
from tests.fakebling.stock import stock_event_of

_minutes = itertools.count()


@dataclass
class Tree:
    pecas: int
    memoria: int
    placa_mae: int
    notebook: int
    sff: int
    mini: int
    monitor: int
    submaquina: int
    pecas_submaquina: int


def tree_mirror(fake: FakeBling) -> Tree:
    """Categories like the retailer's, mirrored into blingsync (default rules apply)."""
    pecas = fake.add_category("Peças")["id"]
    tree = Tree(
        pecas=pecas,
        memoria=fake.add_category("Memória", parent_id=pecas)["id"],
        placa_mae=fake.add_category("Placa Mãe", parent_id=pecas)["id"],
        notebook=fake.add_category("Notebook")["id"],
        sff=fake.add_category("SFF")["id"],
        mini=fake.add_category("Mini")["id"],
        monitor=fake.add_category("Monitor")["id"],
        submaquina=fake.add_category("SubMaquina")["id"],
        pecas_submaquina=fake.add_category("SubMaquina", parent_id=pecas)["id"],
    )
    categories_sync()
    return tree


def mode_live() -> None:
    RuntimeSettings.load()
    RuntimeSettings.objects.filter(pk=1).update(mode=RuntimeSettings.Mode.LIVE)


def moment(minutes_ago: float | None = None) -> datetime:
    """Distinct, increasing event times in the recent past."""
    if minutes_ago is not None:
        return timezone.now() - timedelta(minutes=minutes_ago)
    return timezone.now() - timedelta(minutes=60) + timedelta(seconds=next(_minutes) % 3000)


def stock_posting(
    fake: FakeBling,
    product_id: int,
    operation: str,
    quantity: float,
    *,
    at: datetime | None = None,
    deposit_id: int | None = None,
) -> None:
    """A stock posting in Bling (E entry, S exit, B balance) and its webhook (`stock.created`
    for a balance, `stock.updated` otherwise)."""
    with fake.lock:
        dep = deposit_id or fake.catalog.default_deposit_id()
        bal = fake.catalog.balances.setdefault(product_id, {}).setdefault(
            dep, {"fisico": 0.0, "virtual": 0.0}
        )
        old = bal["fisico"]
        new = {"E": old + quantity, "S": old - quantity, "B": quantity}[operation]
        bal["fisico"] = new
        bal["virtual"] += new - old
        fisico_total, virtual_total = fake.catalog.totals(product_id)
        data = {
            "produto": {"id": product_id},
            "deposito": {"id": dep, "saldoFisico": bal["fisico"], "saldoVirtual": bal["virtual"]},
            "operacao": operation,
            "quantidade": quantity,
            "saldoFisicoTotal": fisico_total,
            "saldoVirtualTotal": virtual_total,
        }
    stock_movement_from_payload(
        event_type=stock_event_of(operation),  # a balance (B) arrives as stock.created
        data=data,
        occurred_at=at or moment(),
        event_id=str(uuid.uuid4()),
    )


def sale(
    fake: FakeBling,
    product_id: int,
    quantity: float,
    *,
    situacao_id: int = 9,
    launch: bool = True,
    at: datetime | None = None,
) -> int:
    """A sales order in Bling, recorded as the order webhook would, and (unless cancelled or
    `launch=False`) the stock exit Bling posts for it. Returns the order id."""
    order = fake.add_order(items=[(product_id, quantity)], situacao_id=situacao_id)
    order_record(order_id=order["id"])
    if launch:
        stock_posting(fake, product_id, "S", quantity, at=at)
    return order["id"]


def situation_writes(fake: FakeBling) -> list:
    """Every situation change blingsync sent to the fake."""
    return [
        r for r in fake.requests if r.path.endswith("/situacoes") and r.method in ("PATCH", "POST")
    ]
