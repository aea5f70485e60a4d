"""Recovery: take back work whose worker died (SPEC 5.6, 5.8), with or without a schedule.

Three ways in, one job:
- the minute tick (`recovery_tick`, schedule `blingsync:recovery`): the steady-state net.
  One indexed query when there is nothing to do: does any event or stock evaluation have a
  `recover_at` in the past (partial indexes on `recover_at`, which is NULL on every settled
  row), or a write intent expired? Only then does it release expired claims and queue what
  is due (`events_recover`, `stock_evaluations_recover`) and settle open write intents by
  reading Bling (`products.intents`);
- a starting cluster (`recovery_at_start`, queued by `WebhooksConfig.ready` in the
  `qcluster` process): the same, plus every pending event at once, and again (one-off
  schedule) when the claims left by the killed worker expire; so a crash is settled within
  3 minutes of the restart whether or not the minute schedule exists;
- `process_events` (`recovery_reclaim`): an operator's run after a crash, or without a
  cluster, releases expired event claims and settles open intents before draining.

With a 60 s lease and a 60 s grace for pending events, an event whose worker was SIGKILLed
is queued again about two minutes after the kill. Retention stays in the hourly `events` job.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db.models import Max
from django.utils import timezone

from blingsync.bling.errors import BlingError
from blingsync.runtime import mode_is_paused
from blingsync.task_queue import task_schedule_once
from products.intents import INTENT_EXPIRES, write_intents_settle
from products.models import CodeAssignment, ProductStockState, StockEvaluation
from products.stock_evaluations import stock_evaluations_recover
from webhooks.maintenance import events_recover, events_release_expired
from webhooks.models import WebhookEvent

logger = logging.getLogger(__name__)

START_TASK = "webhooks.tasks.recovery_at_start_task"
# A starting cluster looks again this many times, as the killed worker's claims expire.
START_ROUNDS = 4


def recovery_due(*, now: datetime | None = None) -> bool:
    """Whether anything waits for recovery (one query over indexed columns: events and
    stock evaluations past `recover_at`, expired write intents)."""
    now = now or timezone.now()
    events = WebhookEvent.objects.filter(recover_at__lte=now).values("pk")
    evaluations = StockEvaluation.objects.filter(recover_at__lte=now).values("pk")
    situations = (
        ProductStockState.objects.filter(intent_at__lte=now - INTENT_EXPIRES)
        .exclude(intent_situation="")
        .values("pk")
    )
    codes = CodeAssignment.objects.filter(
        status=CodeAssignment.Status.RESERVED, write_claimed_until__lte=now
    ).values("pk")
    return events.union(evaluations, situations, codes, all=True).exists()


def _intents_settle(now: datetime) -> dict[str, int]:
    """Settle open write intents; Bling unreachable or not connected: next time."""
    try:
        return write_intents_settle(now=now)
    except BlingError as exc:
        logger.warning("open write intents not settled now (Bling: %s); next recovery", exc)
        return {"intents_unsettled": 1}


def recovery_tick(
    *, now: datetime | None = None, all_pending: bool = False
) -> dict[str, int] | None:
    """Recover what is due; None when nothing was (the idle case: one query)."""
    now = now or timezone.now()
    if not all_pending and not recovery_due(now=now):
        return None
    if mode_is_paused():
        return {"paused": 1}  # paused: nothing is processed, so nothing is queued either
    intents = _intents_settle(now)
    events = events_recover(now=now, all_pending=all_pending)
    evaluations = stock_evaluations_recover(now=now)
    summary = {
        "events_released": events["released"],
        "events_requeued": events["requeued"],
        "evaluations_released": evaluations["released"],
        "evaluations_requeued": evaluations["requeued"],
        **intents,
    }
    logger.info("recovery: %s", summary)
    return summary


def recovery_reclaim(*, now: datetime | None = None) -> dict[str, int]:
    """For a process that drains the work itself (`process_events`): release event claims
    that expired (their worker is gone) and settle open write intents; nothing is queued.
    Stock evaluations with an expired claim are claimable as they are."""
    now = now or timezone.now()
    released = events_release_expired(now=now)
    return {"events_released": released, **_intents_settle(now)}


def _claims_expire_at(now: datetime) -> datetime | None:
    """When the last claim still held (perhaps by the killed worker) expires, if any."""
    latest = [
        WebhookEvent.objects.filter(status=WebhookEvent.Status.PROCESSING).aggregate(
            m=Max("recover_at")
        )["m"],
        StockEvaluation.objects.filter(claimed_at__isnull=False).aggregate(m=Max("recover_at"))[
            "m"
        ],
        CodeAssignment.objects.filter(status=CodeAssignment.Status.RESERVED).aggregate(
            m=Max("write_claimed_until")
        )["m"],
    ]
    intent = ProductStockState.objects.exclude(intent_situation="").aggregate(m=Max("intent_at"))[
        "m"
    ]
    if intent is not None:
        latest.append(intent + INTENT_EXPIRES)
    future = [moment for moment in latest if moment is not None and moment > now]
    return max(future) if future else None


def recovery_at_start(*, round_: int = 0, now: datetime | None = None) -> dict[str, int] | None:
    """A cluster started: take back what its predecessor left (every pending event, expired
    claims, open intents), and come back once the claims still held expire."""
    now = now or timezone.now()
    summary = recovery_tick(now=now, all_pending=True)
    expires = _claims_expire_at(now)
    if expires is not None and round_ + 1 < START_ROUNDS:
        when = expires + timedelta(seconds=1)
        task_schedule_once(func=START_TASK, arg=round_ + 1, when=when)
        logger.info("recovery at start: claims still held until %s; again then", when)
    return summary
