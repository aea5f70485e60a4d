"""Processing stored webhook events: claim, route, record the outcome, retry on failure.

- **Claim** by conditional UPDATE (pending -> processing, or a failed event whose retry is
  due -> processing) and check the count: whoever gets 0 lost the race, so an event queued
  twice, or recovered while a slow worker still holds it, is processed once.
- **Paused** mode: nothing is claimed; the event stays pending until the `events` job or
  `process_events` picks it up after the mode changes.
- **Route** (every service re-reads current state from Bling; payloads can be stale):
  `product.created|updated` -> echo check, else the code service and the kit mirror (one
  detail read for both; and a debounced sold-out evaluation when the ledger has evidence of
  the product); `product.deleted` -> noted;
  `stock.*`, `virtual_stock.updated` -> ledger movement + debounced sold-out evaluation (of
  the product and of the virtual kits made of it);
  `order.created|updated` -> sales ledger, then a debounced evaluation of the order's
  products (and the parts its kits post on) whose last recorded balance is zero or less (a
  stock event that arrived *before* its order found no sales evidence yet; if the balance is
  still positive, the stock event that brings it to zero will ask for the evaluation itself); `order.deleted` -> the order
  is forgotten; `invoice.created|updated` (NF-e) and `consumer_invoice.created|updated`
  (NFC-e) -> the invoice is re-read into the sales ledger (an incoming NF-e, `tipo` 0, is
  ignored without a call), then the same debounced evaluation of its products at zero;
  `invoice.deleted` / `consumer_invoice.deleted` -> the invoice is forgotten;
  `virtual_stock.updated` with `vinculoComplexo: true` -> also the linked products'
  balances, fetched in batches (`products.linked_stock`), and an evaluation of those whose
  verdict may change; anything else -> `ignored`.
- **Company**: an event of a company other than the connected one is `ignored` ("outra
  empresa") before any Bling call. The receiver checks it too; this catches events stored
  before the account was connected.
- **Lease**: the claim holds for `lease.LEASE` and a thread renews it while the event runs
  (however long Bling makes it wait); a killed worker's claim expires and the recovery tick
  (every minute) takes the event back.
- **Failures**: `attempts` + 1, `last_error`, retried after 1, 5, 25 and 125 minutes
  (`next_attempt_at`, a one-off schedule, and the `events` job as a safety net), then left
  `failed` with its error for staff ("reprocess" in the admin).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import F, Q
from django.utils import timezone

from blingsync.alerts.triggers import alert_event_failed, alert_other_company_event
from blingsync.audit import AuditSource, audit_source
from blingsync.bling.errors import BlingError, BlingNotConnected, BlingNotFound
from blingsync.models import AuditLog, RuntimeSettings
from webhooks.debounce import stock_evaluation_request
from webhooks.envelope import company_matches
from webhooks.inbox import QUEUE_GRACE, connected_company_id
from webhooks.lease import lease_end, lease_kept
from webhooks.models import StockEvaluation, WebhookEvent
from webhooks.queueing import event_enqueue_at

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
RETRY_DELAYS = [timedelta(minutes=m) for m in (1, 5, 25, 125)]
BUSY_RETRY = timedelta(seconds=30)
# A product.updated this soon after one of our own writes that matches it is its echo.
ECHO_WINDOW = timedelta(minutes=10)

PRODUCT_CHANGED = {"product.created", "product.updated"}
STOCK_EVENTS = {"stock.created", "stock.updated", "stock.deleted", "virtual_stock.updated"}
ORDER_CHANGED = {"order.created", "order.updated"}
INVOICE_RESOURCES = ("invoice", "consumer_invoice")
INVOICE_CHANGED = {f"{r}.{a}" for r in INVOICE_RESOURCES for a in ("created", "updated")}
INVOICE_DELETED = {f"{r}.deleted" for r in INVOICE_RESOURCES}
INVOICE_EVENTS = INVOICE_CHANGED | INVOICE_DELETED
# An event waiting for a Bling connection is looked at again this often (a reconnect queues
# the whole backlog at once anyway).
NOT_CONNECTED_RECHECK = timedelta(minutes=10)

Status = WebhookEvent.Status


@dataclass(frozen=True)
class _Outcome:
    status: str
    note: str = ""
    echo: bool = False
    ignore_reason: str = ""


class ProductBeingWritten(RuntimeError):
    """Another process holds the product's code write right now (it may have died holding
    it): the event is retried shortly, when the write has landed or its claim expired."""


def _claimable(now: datetime) -> Q:
    return Q(status=Status.PENDING) | Q(status=Status.FAILED, next_attempt_at__lte=now)


def event_claim(*, event_id: int, now: datetime | None = None) -> WebhookEvent | None:
    """pending (or failed with a due retry) -> processing; None when someone else has it."""
    now = now or timezone.now()
    claimed = (
        WebhookEvent.objects.filter(pk=event_id, signature_valid=True)
        .filter(_claimable(now))
        .update(
            status=Status.PROCESSING,
            claimed_at=now,
            recover_at=lease_end(now=now),
            attempts=F("attempts") + 1,
            next_attempt_at=None,
        )
    )
    if not claimed:
        return None
    return WebhookEvent.objects.get(pk=event_id)


def event_process(*, event_id: int) -> str:
    """Process one stored event (by primary key). Returns what happened: "processed",
    "echo", "ignored", "retry", "failed", "not_connected", "paused" or "not_claimed"."""
    if RuntimeSettings.load().mode == RuntimeSettings.Mode.PAUSED:
        return "paused"
    event = event_claim(event_id=event_id)
    if event is None:
        return "not_claimed"
    claimed_at = event.claimed_at
    try:
        with (
            lease_kept(model=WebhookEvent, pk=event.pk, token=claimed_at),
            audit_source(AuditSource(source=AuditLog.Source.WEBHOOK, ref=event.event_id or "")),
        ):
            outcome = _route(event)
    except Exception as exc:
        return _failed(event, exc, claimed_at=claimed_at)
    _finish(event, outcome, claimed_at=claimed_at)
    if outcome.echo:
        return "echo"
    return "ignored" if outcome.status == Status.IGNORED else "processed"


def _finish(event: WebhookEvent, outcome: _Outcome, *, claimed_at: datetime | None) -> None:
    done = WebhookEvent.objects.filter(
        pk=event.pk, status=Status.PROCESSING, claimed_at=claimed_at
    ).update(
        status=outcome.status,
        note=outcome.note[:300],
        echo=outcome.echo,
        ignore_reason=outcome.ignore_reason,
        processed_at=timezone.now(),
        last_error="",
        next_attempt_at=None,
        recover_at=None,
    )
    if not done:
        # The recovery sweep took the event from us (we were too slow); its new run decides.
        logger.warning("webhook event %s was reclaimed while being processed", event.pk)


def _failed(event: WebhookEvent, exc: Exception, *, claimed_at: datetime | None) -> str:
    error = f"{type(exc).__name__}: {exc}"[:4000]
    if isinstance(exc, BlingNotConnected):
        # Not the event's fault and nothing a retry schedule can fix: it waits, pending and
        # without spending an attempt, until staff reconnect (the `events` job and
        # `process_events` pick it up again; the dashboard shows the connection state).
        WebhookEvent.objects.filter(
            pk=event.pk, status=Status.PROCESSING, claimed_at=claimed_at
        ).update(
            status=Status.PENDING,
            attempts=F("attempts") - 1,
            last_error=error,
            recover_at=timezone.now() + NOT_CONNECTED_RECHECK,
        )
        logger.warning("webhook event %s waits for a Bling connection: %s", event.pk, error)
        return "not_connected"
    # Another writer's claim on the product's code (at most `products.codes.WRITE_CLAIM`,
    # left by a killed process until it expires): soon again, without spending an attempt.
    busy = isinstance(exc, ProductBeingWritten)
    final = not busy and event.attempts >= MAX_ATTEMPTS
    now = timezone.now()
    if busy:
        next_at = now + BUSY_RETRY
    else:
        next_at = None if final else now + RETRY_DELAYS[min(event.attempts, len(RETRY_DELAYS)) - 1]
    WebhookEvent.objects.filter(
        pk=event.pk, status=Status.PROCESSING, claimed_at=claimed_at
    ).update(
        attempts=F("attempts") - 1 if busy else F("attempts"),
        status=Status.FAILED,
        last_error=error,
        next_attempt_at=next_at,
        # Its one-off schedule runs the retry; recovery steps in if that schedule is lost.
        recover_at=None if final else next_at + QUEUE_GRACE,
    )
    if final:
        alert_event_failed()
        logger.error(
            "webhook event %s (%s) failed for good after %d attempts: %s",
            event.pk,
            event.event_type,
            event.attempts,
            error,
            exc_info=not isinstance(exc, (BlingError, ProductBeingWritten)),  # our bugs only
        )
        return "failed"
    event_enqueue_at(event_pk=event.pk, when=next_at)
    logger.warning(
        "webhook event %s (%s) failed (attempt %d), retry at %s: %s",
        event.pk,
        event.event_type,
        event.attempts,
        next_at.isoformat(),
        error,
        exc_info=not isinstance(exc, (BlingError, ProductBeingWritten)),
    )
    return "retry"


# --- routing ----------------------------------------------------------------------------------


def _data(event: WebhookEvent) -> dict[str, Any]:
    try:
        data = json.loads(event.body).get("data")
    except (ValueError, AttributeError):
        return {}
    return data if isinstance(data, dict) else {}


def _route(event: WebhookEvent) -> _Outcome:
    kind = event.event_type
    connected = connected_company_id()
    if not company_matches(company_id=event.company_id, connected_company=connected):
        alert_other_company_event()
        return _Outcome(
            Status.IGNORED,
            f"evento da empresa {event.company_id}, não da conectada ({connected})",
            ignore_reason=WebhookEvent.IgnoreReason.OTHER_COMPANY,
        )
    data = _data(event)
    try:
        if kind in PRODUCT_CHANGED:
            return _product_changed(event, data)
        if kind == "product.deleted":
            return _product_deleted(event)
        if kind in STOCK_EVENTS:
            return _stock_changed(event, data)
        if kind in ORDER_CHANGED:
            return _order_changed(event)
        if kind == "order.deleted":
            return _order_deleted(event)
        if kind in INVOICE_CHANGED:
            return _invoice_changed(event, data)
        if kind in INVOICE_DELETED:
            return _invoice_deleted(event)
    except BlingNotFound as exc:
        # Deleted in Bling after the event was sent: there is nothing left to act on.
        return _Outcome(Status.PROCESSED, f"não encontrado no Bling (excluído depois?): {exc}")
    return _Outcome(
        Status.IGNORED,
        "tipo de evento não tratado",
        ignore_reason=WebhookEvent.IgnoreReason.UNKNOWN_EVENT,
    )


def _product_changed(event: WebhookEvent, data: dict[str, Any]) -> _Outcome:
    from blingsync.bling import catalog
    from products.codes import product_code_ensure
    from products.kits import composition_mirror

    product_id = event.resource_id
    if product_id is None:
        return _Outcome(Status.IGNORED, "evento sem id de produto")
    echo = echo_of_our_write(product_id=product_id, data=data)
    if echo:
        return _Outcome(Status.PROCESSED, echo, echo=True)
    # One detail read serves both: the code service and the kit mirror (`estrutura`).
    product = catalog.product_get(product_id=product_id)
    kit = composition_mirror(product=product)
    result = product_code_ensure(product_id=product_id, product=product)
    _raise_if_being_written(result)
    note = _code_note(result) + (f"; kit {kit}" if kit else "")
    if _has_evidence(product_id):
        stock_evaluation_request(product_id=product_id, event_id=event.event_id or "")
        note += "; avaliação de estoque pedida"
    return _Outcome(Status.PROCESSED, note)


def _raise_if_being_written(result: Any) -> None:
    from products.codes import BEING_WRITTEN

    if any(item.reason == BEING_WRITTEN for item in result.all()):
        raise ProductBeingWritten("o código do produto está sendo escrito por outro processo")


def _code_note(result: Any) -> str:
    """The code service's result in a few words (e.g. "código: coded MEMO00001")."""
    parts = []
    for item in result.all():
        detail = item.code or item.reason or ""
        if item.error:
            detail = f"{detail} ({item.error})".strip()
        parts.append(f"{item.product_id} {item.outcome} {detail}".strip())
    return "código: " + ", ".join(parts)


def echo_of_our_write(*, product_id: int, data: dict[str, Any]) -> str:
    """Why this product payload is the echo of a write blingsync made moments before, or "".

    An echo carries the very `codigo` we assigned (a CodeAssignment applied, or a
    `code_assigned` audit entry ok or still pending) or the `situacao` we set (a deactivation
    or reactivation audit entry), for the same product within ECHO_WINDOW. A payload that still lacks a
    code, or whose code is not the one we assigned, is never an echo.
    """
    from products.models import CodeAssignment

    codigo = str(data.get("codigo") or "").strip()
    situacao = str(data.get("situacao") or "").strip().upper()
    if not codigo:
        return ""
    since = timezone.now() - ECHO_WINDOW
    assignment = CodeAssignment.objects.filter(bling_product_id=product_id).first()
    if assignment is not None and assignment.code != codigo:
        return ""
    if (
        assignment is not None
        and assignment.status == CodeAssignment.Status.APPLIED
        and assignment.applied_at
        and assignment.applied_at >= since
    ):
        return f"eco da atribuição do código {codigo}"
    # A write still marked pending counts too: Bling sends the echo as soon as it applies the
    # write, often before we have recorded the outcome, and a payload that shows exactly the
    # value we were writing proves the write landed.
    writes = AuditLog.objects.filter(
        bling_product_id=product_id,
        outcome__in=[AuditLog.Outcome.OK, AuditLog.Outcome.PENDING],
        dry_run=False,
        created_at__gte=since,
    )
    if writes.filter(action=AuditLog.Action.CODE_ASSIGNED, code=codigo).exists():
        return f"eco da atribuição do código {codigo}"
    if situacao == "I" and writes.filter(action=AuditLog.Action.PRODUCT_DEACTIVATED).exists():
        return "eco da inativação feita pelo blingsync"
    if situacao == "A" and writes.filter(action=AuditLog.Action.PRODUCT_REACTIVATED).exists():
        return "eco da reativação feita pelo blingsync"
    return ""


def _has_evidence(product_id: int) -> bool:
    from products.models import SaleLine, StockMovement

    return (
        SaleLine.objects.filter(bling_product_id=product_id).exists()
        or StockMovement.objects.filter(bling_product_id=product_id).exists()
    )


def _product_deleted(event: WebhookEvent) -> _Outcome:
    if event.resource_id is not None:
        # Nothing to evaluate any more for a product that no longer exists.
        StockEvaluation.objects.filter(
            bling_product_id=event.resource_id, claimed_at__isnull=True
        ).delete()
    return _Outcome(Status.PROCESSED, "produto excluído no Bling")


def _stock_changed(event: WebhookEvent, data: dict[str, Any]) -> _Outcome:
    from products.evidence import stock_movement_from_payload
    from products.kits import virtual_kits_containing

    product_id = event.resource_id
    if product_id is None:
        return _Outcome(Status.IGNORED, "evento de estoque sem produto")
    # Records the movement (once per event and product: a retried event adds nothing).
    stock_movement_from_payload(
        event_type=event.event_type,
        data=data,
        occurred_at=event.event_date or event.received_at,
        event_id=event.event_id or "",
    )
    opened = stock_evaluation_request(product_id=product_id, event_id=event.event_id or "")
    note = "movimento registrado; avaliação de estoque "
    note += "agendada" if opened else "já agendada"
    # Virtual kits made of this product follow its stock (with `vinculoComplexo` Bling sends
    # no event per kit): evaluate them too.
    kits = virtual_kits_containing(product_id=product_id)
    for kit_id in kits:
        stock_evaluation_request(product_id=kit_id, event_id=event.event_id or "")
    if kits:
        note += f"; {len(kits)} kit(s) virtual(is) com esta peça também"
    if event.event_type == "virtual_stock.updated" and data.get("vinculoComplexo") is True:
        note += "; " + _linked_refresh(event, product_id)
    return _Outcome(Status.PROCESSED, note)


def _linked_refresh(event: WebhookEvent, product_id: int) -> str:
    from products.linked_stock import linked_stock_refresh

    refreshed = linked_stock_refresh(
        product_id=product_id,
        occurred_at=event.event_date or event.received_at,
        event_id=event.event_id or "",
    )
    for linked_id in refreshed.to_evaluate:
        stock_evaluation_request(product_id=linked_id, event_id=event.event_id or "")
    return (
        f"vínculo complexo: {refreshed.linked} produto(s) vinculado(s), "
        f"{refreshed.balances} saldo(s) lido(s), {len(refreshed.to_evaluate)} avaliação(ões) "
        "pedida(s)"
    )


def _order_changed(event: WebhookEvent) -> _Outcome:
    from products.evidence import order_record

    order_id = event.resource_id
    if order_id is None:
        return _Outcome(Status.IGNORED, "evento de pedido sem id")
    order_record(order_id=order_id)
    zeroed = _products_at_zero(order_id)
    for product_id in zeroed:
        stock_evaluation_request(product_id=product_id, event_id=event.event_id or "")
    note = "pedido registrado"
    if zeroed:
        note += f"; avaliação de estoque pedida para {len(zeroed)} produto(s) zerado(s)"
    return _Outcome(Status.PROCESSED, note)


def _products_at_zero(order_id: int, source: str = "order") -> list[int]:
    """Products of the document whose last balance in the ledger is zero or less."""
    from products.evidence import order_product_ids
    from products.kits import order_products_and_parts
    from products.models import StockMovement

    zeroed = []
    # A kit's sale is also a sale of the parts it posts on (lancamentoEstoque A or M).
    ids = order_product_ids(order_id=order_id, source=source)
    for product_id in order_products_and_parts(product_ids=ids):
        last = (
            StockMovement.objects.filter(bling_product_id=product_id, virtual_total__isnull=False)
            .order_by("-occurred_at", "-id")
            .values_list("virtual_total", flat=True)
            .first()
        )
        if last is not None and Decimal(last) <= 0:
            zeroed.append(product_id)
    return zeroed


def _order_deleted(event: WebhookEvent) -> _Outcome:
    from products.evidence import order_forget

    if event.resource_id is None:
        return _Outcome(Status.IGNORED, "evento de pedido sem id")
    order_forget(order_id=event.resource_id)
    return _Outcome(Status.PROCESSED, "pedido esquecido (excluído no Bling)")


def _invoice_source(event: WebhookEvent) -> str:
    from products.invoice_evidence import INVOICE_EVENT_SOURCES

    return INVOICE_EVENT_SOURCES[event.event_type.split(".", 1)[0]]


def _invoice_changed(event: WebhookEvent, data: dict[str, Any]) -> _Outcome:
    from products.invoice_evidence import invoice_record

    invoice_id = event.resource_id
    if invoice_id is None:
        return _Outcome(Status.IGNORED, "evento de nota fiscal sem id")
    if str(data.get("tipo")) == "0":
        # An incoming NF-e (purchase, return from a customer) is no sale: no call needed.
        return _Outcome(Status.IGNORED, "nota fiscal de entrada: não é venda")
    source = _invoice_source(event)
    recorded = invoice_record(source=source, invoice_id=invoice_id)
    if not recorded.is_sale:
        return _Outcome(Status.PROCESSED, "nota fiscal lida: não é uma venda")
    zeroed = _products_at_zero(invoice_id, source=source)
    for product_id in zeroed:
        stock_evaluation_request(product_id=product_id, event_id=event.event_id or "")
    note = f"nota fiscal registrada ({recorded.lines} item(ns)"
    note += ", conta como venda)" if recorded.counted else ", não conta como venda)"
    if recorded.unresolved:
        note += f"; {recorded.unresolved} código(s) sem produto"
    if zeroed:
        note += f"; avaliação de estoque pedida para {len(zeroed)} produto(s) zerado(s)"
    return _Outcome(Status.PROCESSED, note)


def _invoice_deleted(event: WebhookEvent) -> _Outcome:
    from products.invoice_evidence import invoice_forget

    if event.resource_id is None:
        return _Outcome(Status.IGNORED, "evento de nota fiscal sem id")
    invoice_forget(source=_invoice_source(event), invoice_id=event.resource_id)
    return _Outcome(Status.PROCESSED, "nota fiscal esquecida (excluída no Bling)")
