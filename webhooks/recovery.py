"""The safety net of the webhook inbox, registered with the recovery tick
(`blingsync.recovery`): an event whose task was lost or whose worker died is queued again
(`events_recover`), a minute-by-minute tick over the events' partial index on `recover_at`.
Retention stays in the hourly `events` job."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from blingsync.recovery import Recovery, register_recovery
from webhooks.maintenance import events_recover
from webhooks.models import WebhookEvent


def events_waiting(now: datetime) -> QuerySet[Any, Any]:
    """Events past their `recover_at` (partial index), as `values("pk")`."""
    return WebhookEvent.objects.filter(recover_at__lte=now).values("pk")


register_recovery(Recovery(name="events", waiting=events_waiting, recover=events_recover))
