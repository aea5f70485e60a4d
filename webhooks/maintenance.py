"""Keeping the inbox healthy: recovering stuck events, retention, and staff's "reprocess".

Recovery is what makes the queue safe to lose: a task that never ran (broker hiccup, a worker
killed mid-event, a retry schedule deleted) leaves its event pending, processing (a lease no
one renews) or failed with a due retry, and its `recover_at` passes; `events_recover`, run
every minute by the recovery tick (`blingsync.recovery`), queues it again. Queuing an event that is in fact
still being handled is harmless: processing claims its row first.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from webhooks.inbox import QUEUE_GRACE
from webhooks.models import WebhookEvent
from webhooks.queueing import event_enqueue

logger = logging.getLogger(__name__)

# A refused (unsigned, badly signed, oversized) request is kept this long, whatever the
# retention of events: it is only evidence for an operator, and anyone can send them.
REFUSED_RETENTION = timedelta(hours=48)
# Recovery queues the same event again at most this often (a backlog that takes longer than
# that to drain gets one more copy of each waiting task, which its claim makes harmless).
REQUEUE_AGAIN = timedelta(minutes=3)
_BATCH = 500

Status = WebhookEvent.Status


def events_recover(*, now: datetime | None = None, all_pending: bool = False) -> dict[str, int]:
    """Take back claims whose lease ran out and queue every event due for recovery.

    Due: `recover_at` passed (a pending event not picked up by its own task within the
    grace, a processing claim whose worker stopped renewing it, a retry whose one-off
    schedule did not run). `all_pending`: also every pending event however recent (after a
    resume or a reconnect, when their own tasks ran into the blockage). A copy queued twice
    is harmless: processing claims each event once.

    Returns {"released": expired processing claims put back to pending, "requeued": events
    queued}.
    """
    now = now or timezone.now()
    released = WebhookEvent.objects.filter(status=Status.PROCESSING, recover_at__lte=now).update(
        status=Status.PENDING
    )  # claimed_at stays: it marks the event as released
    if released:
        logger.warning("released %d webhook event(s) whose worker stopped", released)
    due = Q(recover_at__lte=now, status__in=[Status.PENDING, Status.FAILED]) | Q(
        status=Status.FAILED, next_attempt_at__lte=now
    )
    if all_pending:
        due |= Q(status=Status.PENDING)
    ids = list(
        WebhookEvent.objects.filter(signature_valid=True)
        .filter(due)
        .order_by("received_at")
        .values_list("pk", flat=True)
    )
    for start in range(0, len(ids), _BATCH):
        WebhookEvent.objects.filter(pk__in=ids[start : start + _BATCH]).update(
            recover_at=now + REQUEUE_AGAIN
        )
    for pk in ids:
        event_enqueue(event_pk=pk)
    return {"released": released, "requeued": len(ids)}


def _purgeable(*, retention_days: int, now: datetime) -> Q:
    cutoff = now - timedelta(days=max(7, retention_days))
    settled = Q(
        status__in=[Status.PROCESSED, Status.IGNORED, Status.REJECTED], received_at__lt=cutoff
    )
    refused = Q(signature_valid=False, received_at__lt=now - REFUSED_RETENTION)
    return settled | refused


def events_purge(*, retention_days: int, now: datetime | None = None) -> int:
    """Delete processed, ignored and rejected events received more than `retention_days`
    ago (at least 7: Bling retries for 3 days and the stored eventId is what stops a
    replay), and refused unsigned requests older than 48 hours. Failed and pending events
    are kept until someone deals with them."""
    now = now or timezone.now()
    deleted, _ = WebhookEvent.objects.filter(
        _purgeable(retention_days=retention_days, now=now)
    ).delete()
    return deleted


def events_purgeable_count(*, retention_days: int, now: datetime | None = None) -> int:
    now = now or timezone.now()
    return WebhookEvent.objects.filter(_purgeable(retention_days=retention_days, now=now)).count()


def events_reprocess(*, event_ids: list[int], queue: bool = True) -> int:
    """Put events back to pending with a fresh retry budget and (unless `queue=False`, for a
    caller that processes them itself) queue them after commit.

    Rejected requests (bad signature or body) are never processed, nor are deliveries
    ignored for their envelope (another company, a replay, a payload we cannot read: the
    envelope will not change); an event being processed right now is left alone. Returns
    how many were queued.
    """
    with transaction.atomic():
        ids = list(
            WebhookEvent.objects.filter(pk__in=event_ids, signature_valid=True, ignore_reason="")
            .exclude(status__in=[Status.REJECTED, Status.PROCESSING])
            .values_list("pk", flat=True)
        )
        WebhookEvent.objects.filter(pk__in=ids).exclude(status=Status.PROCESSING).update(
            status=Status.PENDING,
            attempts=0,
            next_attempt_at=None,
            claimed_at=None,
            recover_at=timezone.now() + QUEUE_GRACE,
        )
        for pk in ids if queue else []:
            # A def, not a lambda, so mypy can type it; the default binds this loop's pk.
            def enqueue(pk: int = pk) -> None:
                event_enqueue(event_pk=pk)

            transaction.on_commit(enqueue)
    return len(ids)
