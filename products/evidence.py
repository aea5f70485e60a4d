"""Recording the sold-out evidence: stock movements (stock webhooks) and sale lines (orders).

Called by the webhook processing (`stock.*`, `virtual_stock.updated`, `order.*`) and by the
orders sweep (invoices: `products.invoice_evidence`). Both records are idempotent: a movement
is stored once per webhook event, and re-reading a document replaces all of its lines, so
duplicates and replays change nothing.

Order situations are resolved by name through `/situacoes/modulos` (never hard-coded ids):
an order whose situation is "Cancelado" (any case or accents, also custom situations whose
name starts with it, e.g. "Cancelado pelo cliente") does not count as a sale. The names are
cached per job run (the sweep passes its run), and for a few minutes outside runs (webhook
processing). When Bling
refuses `/situacoes/modulos` (403: the app was authorised without the Situações scope), or an
order's situation id is not among the names, the order is judged by `situacao.valor`
(0 em aberto, 1 atendido, 2 cancelado, 3 em andamento): 2 does not count. The refusal is
remembered on the connection and shown once on the dashboard.
"""

from __future__ import annotations

import logging
import time
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Min, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from blingsync.bling import catalog
from blingsync.bling.errors import BlingForbidden, BlingNotFound
from blingsync.bling.types import Order
from blingsync.connection import connection_situations_refused_set
from products.models import SaleLine, StockMovement

logger = logging.getLogger(__name__)

STOCK_EVENTS = ("stock.created", "stock.updated", "stock.deleted")
# `operacao` of a stock movement: E entrada, S saída, B balanço (a manual adjustment).
STOCK_OPERATIONS = ("E", "S", "B")
VIRTUAL_STOCK_EVENT = "virtual_stock.updated"
_SITUATIONS_TTL_SECONDS = 300.0


# ---------------------------------------------------------------- stock movements


def stock_movement_record(
    *,
    product_id: int,
    deposit_id: int | None,
    operation: str,
    quantity: Decimal | float | int | None,
    deposit_physical: Decimal | float | int | None,
    deposit_virtual: Decimal | float | int | None,
    physical_total: Decimal | float | int | None,
    virtual_total: Decimal | float | int | None,
    occurred_at: datetime,
    event_id: str = "",
    event_type: str = "",
) -> StockMovement:
    """Store one movement; the same event id for the same product is stored once."""
    operation = (operation or "").strip().upper()
    if operation not in StockMovement.Operation.values:
        logger.warning("unknown stock operation %r for product %s", operation, product_id)
        operation = ""
    fields = {
        "deposit_id": deposit_id or None,
        "operation": operation,
        "quantity": _decimal(quantity),
        "deposit_physical": _decimal(deposit_physical),
        "deposit_virtual": _decimal(deposit_virtual),
        "physical_total": _decimal(physical_total),
        "virtual_total": _decimal(virtual_total),
        "occurred_at": _aware(occurred_at),
        "event_type": event_type,
    }
    if not event_id:
        return StockMovement.objects.create(bling_product_id=product_id, **fields)
    try:
        with transaction.atomic():
            movement, _created = StockMovement.objects.get_or_create(
                bling_product_id=product_id, event_id=event_id, defaults=fields
            )
    except IntegrityError:
        # Two workers recorded the same delivery at once; the other one won.
        movement = StockMovement.objects.get(bling_product_id=product_id, event_id=event_id)
    return movement


def stock_movement_from_payload(
    *, event_type: str, data: dict[str, Any], occurred_at: datetime | str, event_id: str
) -> StockMovement | None:
    """Record the movement carried by a stock webhook's `data` (bling-v3.md 8.4).

    `stock.created|updated` carry `operacao`, `quantidade`, the deposit's and the total
    balances; `stock.deleted` only the balances; `virtual_stock.updated` the totals and a list
    of deposits (its deposit fields are kept only when it lists exactly one). Returns None
    for other events or a payload without a product id.
    """
    if event_type not in (*STOCK_EVENTS, VIRTUAL_STOCK_EVENT) or not isinstance(data, dict):
        return None
    product_id = _int((data.get("produto") or {}).get("id"))
    if not product_id:
        logger.warning("%s event %s has no produto.id", event_type, event_id)
        return None
    if event_type == VIRTUAL_STOCK_EVENT:
        deposits = [d for d in data.get("depositos") or [] if isinstance(d, dict)]
        deposit = deposits[0] if len(deposits) == 1 else {}
        operation, quantity = "", None
    else:
        deposit = data.get("deposito") or {}
        # `stock.created` is a movement like any other (a balance done in Bling's stock
        # screen arrives as one, `operacao` "B"): its `operacao` says what it is. An
        # operation outside E/S/B ("" included) is "not set": balances only.
        raw = "" if event_type == "stock.deleted" else str(data.get("operacao") or "")
        operation = raw.strip().upper() if raw.strip().upper() in STOCK_OPERATIONS else ""
        quantity = data.get("quantidade") if operation else None
    return stock_movement_record(
        product_id=product_id,
        deposit_id=_int(deposit.get("id")),
        operation=operation,
        quantity=quantity,
        deposit_physical=deposit.get("saldoFisico"),
        deposit_virtual=deposit.get("saldoVirtual"),
        physical_total=data.get("saldoFisicoTotal"),
        virtual_total=data.get("saldoVirtualTotal"),
        occurred_at=_when(occurred_at),
        event_id=event_id or "",
        event_type=event_type,
    )


# ---------------------------------------------------------------- order situations


# `situacao.valor` of an order, the fallback without the Situações scope (bling-v3.md 7.3).
ORDER_VALUE_NAMES = {0: "Em aberto", 1: "Atendido", 2: "Cancelado", 3: "Em andamento"}
ORDER_VALUE_CANCELLED = 2


@dataclass
class _SituationCache:
    key: object = None
    expires: float = 0.0
    names: dict[int, str] | None = None
    refused: bool = False


_situations = _SituationCache()


def situation_is_cancelled(name: str) -> bool:
    """ "Cancelado", "CANCELADO", "cancelado pelo cliente": cancelled (accents ignored)."""
    folded = unicodedata.normalize("NFKD", name or "")
    folded = "".join(c for c in folded if not unicodedata.combining(c)).casefold().strip()
    return folded.startswith("cancelad")


def order_situation_names(*, run_id: int | None = None) -> dict[int, str]:
    """{situation id: name} of the sales module, cached for the job run `run_id` (or for 5
    minutes outside runs).

    Empty when Bling refuses `/situacoes/modulos` (403, no Situações scope): orders are then
    judged by `situacao.valor` (see `order_situation_judge`)."""
    key = ("run", run_id) if run_id is not None else "process"
    now = time.monotonic()
    if _situations.names is not None and _situations.key == key and now < _situations.expires:
        return _situations.names
    try:
        names = {situation.id: situation.name for situation in catalog.order_situations()}
        refused = False
    except BlingForbidden:
        logger.warning(
            "Bling refused /situacoes/modulos (no Situações scope): orders judged by situacao.valor"
        )
        names, refused = {}, True
    connection_situations_refused_set(refused=refused)
    _situations.key, _situations.names, _situations.refused = key, names, refused
    _situations.expires = now + _SITUATIONS_TTL_SECONDS
    return names


def order_situation_judge(*, order: Order, names: dict[int, str]) -> tuple[str, bool]:
    """(situation name, counts as a sale) of an order: by the situation's name when Bling
    gave the names, else by `situacao.valor` (2 = cancelado)."""
    name = names.get(order.situation_id, "") if order.situation_id is not None else ""
    if name:
        return name, not situation_is_cancelled(name)
    if order.situation_value is not None:
        value = order.situation_value
        label = ORDER_VALUE_NAMES.get(value, f"valor {value}")
        return label, value != ORDER_VALUE_CANCELLED
    if order.situation_id is not None:
        logger.warning("order %s has unknown situation %s", order.id, order.situation_id)
    return "", True


def order_situations_cache_clear() -> None:
    """Forget the cached situation names (e.g. after staff renamed one in Bling)."""
    _situations.names = None


# ---------------------------------------------------------------- sale lines


def order_record(*, order_id: int) -> int:
    """Re-read an order from Bling and replace its sale lines; returns how many it has now.

    An order that no longer exists in Bling is forgotten (its lines stop counting).
    """
    try:
        order = catalog.order_get(order_id=order_id)
    except BlingNotFound:
        order_forget(order_id=order_id)
        return 0
    return order_lines_replace(order=order)


def order_lines_replace(*, order: Order, situations: dict[int, str] | None = None) -> int:
    """Replace the sale lines of `order` (already read from Bling); returns the line count."""
    if situations is None:
        situations = order_situation_names() if order.situation_id is not None else {}
    name, counted = order_situation_judge(order=order, names=situations)
    order_day = order.date or timezone.localdate()
    lines = [
        SaleLine(
            order_number=str(order.number or ""),
            line=index,
            bling_product_id=item.product_id,
            product_code=item.code or "",
            quantity=item.quantity,
            situation_id=order.situation_id,
            situation_name=name,
            counted=counted,
            order_date=order_day,
            linked_invoice_id=order.invoice_id,
            store_order_number=order.store_number[:60],
        )
        for index, item in enumerate(order.items, start=1)
        # Free-text items (no product in the catalog) are no evidence of anything.
        if item.product_id
    ]
    count = sale_lines_replace(source=SaleLine.Source.ORDER, document_id=order.id, lines=lines)
    sale_links_update(order_id=order.id, invoice_id=order.invoice_id, store=order.store_number)
    return count


_LINE_FIELDS = [
    "order_number",
    "bling_product_id",
    "product_code",
    "quantity",
    "situation_id",
    "situation_name",
    "counted",
    "order_date",
    "linked_invoice_id",
    "sale_order_id",
    "store_order_number",
    "recorded_at",
]


def sale_lines_replace(*, source: str, document_id: int, lines: list[SaleLine]) -> int:
    """Upsert a document's lines by (source, document, item number), then drop the items it
    no longer has; returns the line count.

    An upsert rather than delete-and-insert: a webhook and the sweep may replace the same
    document at once, and ON CONFLICT lets both finish with one set of lines (no unique-key
    error for the loser). `first_seen_at` is never overwritten.
    """
    now = timezone.now()
    rows = SaleLine.objects.filter(source=source, order_id=document_id)
    first_seen = rows.aggregate(first=Min("first_seen_at"))["first"] or now
    for line in lines:
        line.source, line.order_id = source, document_id
        line.first_seen_at, line.recorded_at = first_seen, now
    with transaction.atomic():
        if lines:
            SaleLine.objects.bulk_create(
                lines,
                update_conflicts=True,
                unique_fields=["source", "order_id", "line"],
                update_fields=_LINE_FIELDS,
            )
        rows.exclude(line__in=[line.line for line in lines]).delete()
    return len(lines)


INVOICE_SOURCES = (SaleLine.Source.NFE, SaleLine.Source.NFCE)


def sale_links_update(*, order_id: int, invoice_id: int | None, store: str) -> int:
    """An order and the invoice issued from it are one sale: mark the invoice's lines with the
    order (by the order's `notaFiscal.id`, or the same store order number)."""
    links = Q()
    if invoice_id:
        links |= Q(order_id=invoice_id)
    if store.strip():
        links |= Q(store_order_number=store.strip())
    if not links:
        return 0
    return (
        SaleLine.objects.filter(source__in=INVOICE_SOURCES)
        .filter(links)
        .exclude(sale_order_id=order_id)
        .update(sale_order_id=order_id)
    )


def sale_order_of_invoice(*, invoice_id: int, store: str) -> int | None:
    """The recorded order an invoice was issued from (its `notaFiscal.id` names the invoice,
    or it has the invoice's store order number), or None."""
    links = Q(linked_invoice_id=invoice_id)
    if store.strip():
        links |= Q(store_order_number=store.strip())
    return (
        SaleLine.objects.filter(source=SaleLine.Source.ORDER)
        .filter(links)
        .values_list("order_id", flat=True)
        .first()
    )


def order_forget(*, order_id: int) -> int:
    """`order.deleted`: the order's lines no longer count; returns how many were removed."""
    deleted, _detail = SaleLine.objects.filter(
        source=SaleLine.Source.ORDER, order_id=order_id
    ).delete()
    SaleLine.objects.filter(source__in=INVOICE_SOURCES, sale_order_id=order_id).update(
        sale_order_id=None
    )
    return deleted


def order_product_ids(*, order_id: int, source: str = SaleLine.Source.ORDER) -> list[int]:
    """The products of a recorded document (to evaluate them after its event)."""
    rows = SaleLine.objects.filter(source=source, order_id=order_id)
    return sorted(set(rows.values_list("bling_product_id", flat=True)))


# ---------------------------------------------------------------- parsing helpers


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _aware(value: datetime) -> datetime:
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _when(value: datetime | date | str | None) -> datetime:
    """The envelope's `date` (ISO 8601) as an aware datetime; now when missing or unreadable."""
    if isinstance(value, datetime):
        return _aware(value)
    if isinstance(value, str):
        parsed = parse_datetime(value.replace("Z", "+00:00"))
        if parsed is not None:
            return _aware(parsed)
    return timezone.now()
