"""Absolute links to the pages that fix what an alert reports (SITE_URL + the page's path)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse

from blingsync.alerts.models import AlertKind


def site_url_for(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _changelist(name: str, **filters: str) -> str:
    path = reverse(f"admin:{name}_changelist")
    return f"{path}?{urlencode(filters)}" if filters else path


def alert_link_path(*, kind: str) -> str:
    """The path of the page where staff act on an alert of `kind`."""
    if kind == AlertKind.NEEDS_RECONNECT:
        return reverse("bling-connect")  # "Conectar ao Bling"
    if kind == AlertKind.SIGNATURE_FAILURES:
        return _changelist("webhooks_webhookevent", signature_valid__exact="0")
    if kind == AlertKind.OTHER_COMPANY:
        return _changelist("webhooks_webhookevent")
    if kind == AlertKind.EVENTS_FAILED:
        return _changelist("webhooks_webhookevent", status__exact="failed")
    if kind == AlertKind.WRITES_FAILED:
        return _changelist("blingsync_auditlog", outcome__exact="failed")
    # Overdue schedules, the call budget and the summary: the dashboard shows them all.
    return reverse("dashboard")


def alert_link(*, kind: str) -> str:
    return site_url_for(alert_link_path(kind=kind))
