"""Keeping the inbox healthy: recovering stuck events, retention, and staff's "reprocess".

Recovery is what makes the queue safe to lose: a task that never ran (broker hiccup, a worker
killed mid-event, a retry schedule deleted) leaves its event pending, processing or failed
with a due retry, and `events_recover` queues it again. Queuing an event that is in fact
still being handled is harmless: processing claims its row first.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from webhooks.models import WebhookEvent
from webhooks.queueing import event_enqueue

logger = logging.getLogger(__name__)

# A claim older than this belongs to a worker that died (an event takes seconds).
PROCESSING_TIMEOUT = timedelta(minutes=10)
# A pending event this old was not picked up by its own task (normally < 1 s).
PENDING_TIMEOUT = timedelta(minutes=2)

Status = WebhookEvent.Status


def events_recover(*, now: datetime | None = None, all_pending: bool = False) -> dict[str, int]:
    """Release stale claims and queue every event that should be processed by now.

    `all_pending`: queue every pending event however recent (after a resume or a reconnect,
    when their own tasks ran into the blockage); a copy queued twice is harmless, the
    processing claims each event once.

    Returns {"released": stale processing claims put back to pending, "requeued": events
    queued (stale pending + released + due retries)}.
    """
    now = now or timezone.now()
    released = WebhookEvent.objects.filter(
        status=Status.PROCESSING, claimed_at__lt=now - PROCESSING_TIMEOUT
    ).update(status=Status.PENDING)  # claimed_at stays: it marks the event as released
    if released:
        logger.warning("released %d webhook event(s) stuck in processing", released)
    due = WebhookEvent.objects.filter(signature_valid=True).filter(
        Q(status=Status.PENDING, received_at__lt=now if all_pending else now - PENDING_TIMEOUT)
        | Q(status=Status.PENDING, claimed_at__isnull=False)  # released, now or before
        | Q(status=Status.FAILED, next_attempt_at__lte=now)
    )
    ids = list(due.order_by("received_at").values_list("pk", flat=True))
    for pk in ids:
        event_enqueue(event_pk=pk)
    return {"released": released, "requeued": len(ids)}


def events_purge(*, retention_days: int, now: datetime | None = None) -> int:
    """Delete processed, ignored and rejected events received more than `retention_days`
    ago (at least 7: Bling retries for 3 days and the stored eventId is what stops a replay).
    Failed and pending events are kept until someone deals with them."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=max(7, retention_days))
    deleted, _ = WebhookEvent.objects.filter(
        status__in=[Status.PROCESSED, Status.IGNORED, Status.REJECTED], received_at__lt=cutoff
    ).delete()
    return deleted


def events_purgeable_count(*, retention_days: int, now: datetime | None = None) -> int:
    now = now or timezone.now()
    cutoff = now - timedelta(days=max(7, retention_days))
    return WebhookEvent.objects.filter(
        status__in=[Status.PROCESSED, Status.IGNORED, Status.REJECTED], received_at__lt=cutoff
    ).count()


def events_reprocess(*, event_ids: list[int], queue: bool = True) -> int:
    """Put events back to pending with a fresh retry budget and (unless `queue=False`, for a
    caller that processes them itself) queue them after commit.

    Rejected requests (bad signature or body) are never processed, and an event being
    processed right now is left alone. Returns how many were queued.
    """
    with transaction.atomic():
        ids = list(
            WebhookEvent.objects.filter(pk__in=event_ids, signature_valid=True)
            .exclude(status__in=[Status.REJECTED, Status.PROCESSING])
            .values_list("pk", flat=True)
        )
        WebhookEvent.objects.filter(pk__in=ids).exclude(status=Status.PROCESSING).update(
            status=Status.PENDING, attempts=0, next_attempt_at=None, claimed_at=None
        )
        for pk in ids if queue else []:
            transaction.on_commit(lambda pk=pk: event_enqueue(event_pk=pk))
    return len(ids)
