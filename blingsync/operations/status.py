"""The installation's state as the dashboard and `/health/` both report it: the Bling
connection, the django-q queue backlog and the webhook inbox counts (selectors, no writes).

One reader each, so the page staff look at and the JSON a load balancer polls cannot
disagree about them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from blingsync.connection import connection_get
from blingsync.models import BlingConnection
from webhooks.selectors import events_failed_count, events_pending_count, signature_failures_count

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConnectionStatus:
    """The connection row as staff and monitors see it; `connection` is None before the
    first connect (state "not connected")."""

    connection: BlingConnection | None
    state: str
    label: str
    expires_at: datetime | None
    # Negative once expired; None when there is no token (or no connection).
    expires_in_seconds: float | None

    @property
    def connected(self) -> bool:
        return self.state == BlingConnection.Status.CONNECTED

    @property
    def company_name(self) -> str:
        return self.connection.company_name if self.connection else ""

    @property
    def company(self) -> str:
        """The company's name, or its id in Bling when the name was never read."""
        if self.connection is None:
            return ""
        return self.connection.company_name or self.connection.company_id


def connection_status() -> ConnectionStatus:
    """Connected, needs a reconnect, or not connected; with the token's expiry."""
    conn = connection_get()
    if conn is None:
        return ConnectionStatus(
            connection=None,
            state=BlingConnection.Status.NOT_CONNECTED,
            label=str(BlingConnection.Status.NOT_CONNECTED.label),
            expires_at=None,
            expires_in_seconds=None,
        )
    expires_in = (conn.expires_at - timezone.now()).total_seconds() if conn.expires_at else None
    return ConnectionStatus(
        connection=conn,
        state=conn.status,
        label=conn.get_status_display(),
        expires_at=conn.expires_at,
        expires_in_seconds=expires_in,
    )


def queue_backlog() -> int | None:
    """Tasks waiting in the django-q broker (ORM broker: rows in django_q_ormq); a growing
    number means no worker is running. None when the broker cannot be asked: a report with
    one figure missing beats no report."""
    try:
        from django_q.brokers import get_broker

        return get_broker().queue_size()
    except Exception as exc:
        # A warning without the traceback: /health/ is polled by load balancers, and a broker
        # that is down would otherwise fill the log with the same stack every few seconds.
        logger.warning("could not read the task queue size: %s", type(exc).__name__)
        return None


@dataclass(frozen=True)
class EventCounts:
    pending: int
    failed: int
    signature_failures_24h: int


def event_counts() -> EventCounts:
    """The webhook inbox: events still to process, failed for good, and requests refused for
    their signature in the last 24 hours (the webhooks app's selectors)."""
    return EventCounts(
        pending=events_pending_count(),
        failed=events_failed_count(),
        signature_failures_24h=signature_failures_count(hours=24),
    )
