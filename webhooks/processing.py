"""Processing stored webhook events: claim, route, record the outcome, retry on failure.

- **Claim** by conditional UPDATE (pending -> processing, or a failed event whose retry is
  due -> processing) and check the count: whoever gets 0 lost the race, so an event queued
  twice, or recovered while a slow worker still holds it, is processed once.
- **Mode**: resolved once per event (`runtime.run_mode_resolve`). Paused: nothing is
  claimed; the event stays pending until the `events` job or `process_events` picks it up
  after the mode changes. Otherwise the services get `dry_run` from here.
- **Route**: one products service per kind of event (`products.changes`, which says what
  each does): `product.created|updated`, `product.deleted`, `stock.*` and
  `virtual_stock.updated`, `order.created|updated`, `order.deleted`,
  `invoice.*` (NF-e) and `consumer_invoice.*` (NFC-e); anything else -> `ignored`.
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
from typing import Any

from django.db.models import F, Q
from django.utils import timezone

from blingsync.alerts.triggers import alert_event_failed, alert_other_company_event
from blingsync.audit import AuditSource, audit_source
from blingsync.bling.errors import BlingError, BlingNotConnected, BlingNotFound
from blingsync.latency import latency_mark
from blingsync.lease import lease_end, lease_kept
from blingsync.models import AuditLog
from blingsync.runtime import run_mode_resolve
from products import changes
from products.changes import ChangeHandled, ProductBeingWritten
from products.invoice_evidence import INVOICE_EVENT_SOURCES
from webhooks.envelope import company_matches
from webhooks.inbox import QUEUE_GRACE, connected_company_id
from webhooks.models import WebhookEvent
from webhooks.queueing import event_enqueue_at

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
RETRY_DELAYS = [timedelta(minutes=m) for m in (1, 5, 25, 125)]
BUSY_RETRY = timedelta(seconds=30)

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
    mode = run_mode_resolve(dry_run=None)
    if mode.paused:
        return "paused"
    event = event_claim(event_id=event_id)
    if event is None:
        return "not_claimed"
    latency_mark("claimed")
    claimed_at = event.claimed_at
    try:
        with (
            lease_kept(model=WebhookEvent, pk=event.pk, token=claimed_at),
            audit_source(AuditSource(source=AuditLog.Source.WEBHOOK, ref=event.event_id or "")),
        ):
            outcome = _route(event, dry_run=mode.dry_run)
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
    next_at: datetime | None  # None exactly when final
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
        recover_at=None if next_at is None else next_at + QUEUE_GRACE,  # None when final
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
    assert next_at is not None  # not final: a retry time was set above
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


def _route(event: WebhookEvent, *, dry_run: bool) -> _Outcome:
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
    resource_id = event.resource_id
    event_id = event.event_id or ""
    try:
        if kind in PRODUCT_CHANGED:
            if resource_id is None:
                return _Outcome(Status.IGNORED, "evento sem id de produto")
            return _recorded(
                changes.product_change_apply(
                    product_id=resource_id, data=data, event_id=event_id, dry_run=dry_run
                )
            )
        if kind == "product.deleted":
            return _recorded(changes.product_deletion_apply(product_id=resource_id))
        if kind in STOCK_EVENTS:
            if resource_id is None:
                return _Outcome(Status.IGNORED, "evento de estoque sem produto")
            return _recorded(
                changes.stock_change_apply(
                    product_id=resource_id,
                    event_type=kind,
                    data=data,
                    occurred_at=event.event_date or event.received_at,
                    event_id=event_id,
                )
            )
        if kind in ORDER_CHANGED | {"order.deleted"}:
            if resource_id is None:
                return _Outcome(Status.IGNORED, "evento de pedido sem id")
            if kind == "order.deleted":
                return _recorded(changes.order_deletion_apply(order_id=resource_id))
            return _recorded(changes.order_change_apply(order_id=resource_id, event_id=event_id))
        if kind in INVOICE_EVENTS:
            if resource_id is None:
                return _Outcome(Status.IGNORED, "evento de nota fiscal sem id")
            source = INVOICE_EVENT_SOURCES[kind.split(".", 1)[0]]
            if kind in INVOICE_DELETED:
                return _recorded(
                    changes.invoice_deletion_apply(source=source, invoice_id=resource_id)
                )
            return _recorded(
                changes.invoice_change_apply(
                    source=source, invoice_id=resource_id, data=data, event_id=event_id
                )
            )
    except BlingNotFound as exc:
        # Deleted in Bling after the event was sent: there is nothing left to act on.
        return _Outcome(Status.PROCESSED, f"não encontrado no Bling (excluído depois?): {exc}")
    return _Outcome(
        Status.IGNORED,
        "tipo de evento não tratado",
        ignore_reason=WebhookEvent.IgnoreReason.UNKNOWN_EVENT,
    )


def _recorded(handled: ChangeHandled) -> _Outcome:
    status = Status.IGNORED if handled.ignored else Status.PROCESSED
    return _Outcome(status, handled.note, echo=handled.echo)
