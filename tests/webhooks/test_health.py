"""Inbox figures for the dashboard and /health/: pending, failed, signature failures."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from webhooks.models import WebhookEvent
from webhooks.selectors import (
    events_failed_count,
    events_pending_count,
    signature_failures_count,
)

pytestmark = pytest.mark.django_db

Status = WebhookEvent.Status


def test_the_figures_count_what_staff_ask_about(client, settings):
    WebhookEvent.objects.create(event_id="p", signature_valid=True)
    WebhookEvent.objects.create(
        event_id="r",
        signature_valid=True,
        status=Status.FAILED,
        attempts=1,
        next_attempt_at=timezone.now(),
    )
    WebhookEvent.objects.create(
        event_id="f", signature_valid=True, status=Status.FAILED, attempts=5
    )
    WebhookEvent.objects.create(status=Status.REJECTED, http_status=401)
    old = WebhookEvent.objects.create(status=Status.REJECTED, http_status=401)
    WebhookEvent.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(hours=30))
    WebhookEvent.objects.create(status=Status.REJECTED, http_status=400, signature_valid=True)

    assert events_pending_count() == 2  # pending + waiting for a retry
    assert events_failed_count() == 1
    assert signature_failures_count(hours=24) == 1

    settings.HEALTH_TOKEN = "health-token-for-the-tests-0123456789"
    events = client.get("/health/", HTTP_X_HEALTH_TOKEN=settings.HEALTH_TOKEN).json()["events"]
    assert events == {"pending": 2, "failed": 1, "signature_failures_24h": 1}
