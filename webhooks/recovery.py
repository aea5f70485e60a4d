"""The safety net of the webhook inbox, registered with the recovery tick
(`blingsync.recovery`): an event whose task was lost or whose worker died is queued again
(`events_recover`), a minute-by-minute tick over the events' partial index on `recover_at`;
`process_events` releases expired claims itself (`events_release_expired`) and drains them;
a starting cluster looks again when the claims still held expire (`events_held_until`).
Retention stays in the hourly `events` job."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Max, QuerySet

from blingsync.recovery import Recovery, register_recovery
from webhooks.maintenance import events_recover, events_release_expired
from webhooks.models import WebhookEvent


def events_waiting(now: datetime) -> QuerySet[Any, Any]:
    """Events past their `recover_at` (partial index), as `values("pk")`."""
    return WebhookEvent.objects.filter(recover_at__lte=now).values("pk")


def events_held_until(now: datetime) -> datetime | None:
    """When the last event claim still running (perhaps a killed worker's) expires."""
    return WebhookEvent.objects.filter(
        status=WebhookEvent.Status.PROCESSING, recover_at__gt=now
    ).aggregate(m=Max("recover_at"))["m"]


def events_recover_at_start(*, now: datetime) -> dict[str, int]:
    """A starting cluster queues every pending event at once (their tasks may have died
    with the previous cluster), not only those past their grace."""
    return events_recover(now=now, all_pending=True)


def events_reclaim(*, now: datetime) -> dict[str, int]:
    return {"released": events_release_expired(now=now)}


register_recovery(
    Recovery(
        name="events",
        waiting=events_waiting,
        recover=events_recover,
        held_until=events_held_until,
        reclaim=events_reclaim,
        at_start=events_recover_at_start,
    )
)
