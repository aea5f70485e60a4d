"""The recovery tick: every minute, take back work whose worker died (SPEC 5.6).

One indexed query when there is nothing to do: does any event or stock evaluation have a
`recover_at` in the past (partial indexes on `recover_at`, which is NULL on every settled
row)? Only then does it release expired claims and queue what is due (`events_recover`,
`stock_evaluations_recover`). With a 60 s lease and a 60 s grace for pending events, an
event whose worker was SIGKILLed is queued again about two minutes after the kill, so
within 3 minutes of the worker's restart. Retention stays in the hourly `events` job.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.utils import timezone

from blingsync.runtime import mode_is_paused
from products.models import StockEvaluation
from products.stock_evaluations import stock_evaluations_recover
from webhooks.maintenance import events_recover
from webhooks.models import WebhookEvent

logger = logging.getLogger(__name__)


def recovery_due(*, now: datetime | None = None) -> bool:
    """Whether anything waits for recovery (one query over both partial indexes)."""
    now = now or timezone.now()
    events = WebhookEvent.objects.filter(recover_at__lte=now).values("pk")
    evaluations = StockEvaluation.objects.filter(recover_at__lte=now).values("pk")
    return events.union(evaluations, all=True).exists()


def recovery_tick(*, now: datetime | None = None) -> dict[str, int] | None:
    """Recover what is due; None when nothing was (the idle case: one query)."""
    now = now or timezone.now()
    if not recovery_due(now=now):
        return None
    if mode_is_paused():
        return {"paused": 1}  # paused: nothing is processed, so nothing is queued either
    events = events_recover(now=now)
    evaluations = stock_evaluations_recover(now=now)
    summary = {
        "events_released": events["released"],
        "events_requeued": events["requeued"],
        "evaluations_released": evaluations["released"],
        "evaluations_requeued": evaluations["requeued"],
    }
    logger.info("recovery tick: %s", summary)
    return summary
