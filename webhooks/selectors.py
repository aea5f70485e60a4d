"""Read-only figures about the inbox, for the dashboard and `/health/`."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from webhooks.models import WebhookEvent

Status = WebhookEvent.Status


def events_pending_count() -> int:
    """Events still to be processed: pending, being processed, or failed with a retry due."""
    return WebhookEvent.objects.filter(
        Q(status__in=[Status.PENDING, Status.PROCESSING])
        | Q(status=Status.FAILED, next_attempt_at__isnull=False)
    ).count()


def events_failed_count() -> int:
    """Events that failed for good (retries exhausted) and wait for staff."""
    return WebhookEvent.objects.filter(status=Status.FAILED, next_attempt_at__isnull=True).count()


def signature_failures_count(*, hours: int = 24) -> int:
    """Requests refused for a missing or wrong signature in the last `hours` (a wrong client
    secret shows up here before Bling disables the webhook)."""
    since = timezone.now() - timedelta(hours=hours)
    return WebhookEvent.objects.filter(
        http_status=401, signature_valid=False, received_at__gte=since
    ).count()


def events_to_process(*, now=None, limit: int | None = None) -> list[int]:
    """Primary keys of events that processing would claim now, oldest first."""
    now = now or timezone.now()
    qs = (
        WebhookEvent.objects.filter(signature_valid=True)
        .filter(Q(status=Status.PENDING) | Q(status=Status.FAILED, next_attempt_at__lte=now))
        .order_by("received_at", "pk")
        .values_list("pk", flat=True)
    )
    return list(qs[:limit] if limit else qs)
