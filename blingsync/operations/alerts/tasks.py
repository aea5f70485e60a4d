"""django-q2 task entry points of the alerts (thin: they call the services)."""

from __future__ import annotations

from blingsync.operations.alerts.services import alert_check, alert_message_send, alerts_check_all


def alert_send_task(message_id: int) -> str:
    return alert_message_send(message_id=message_id)


def alert_check_task(kind: str) -> int:
    return len(alert_check(kind=kind))


def alerts_periodic_task() -> dict[str, int]:
    """What the `blingsync:alerts` schedule runs every few minutes."""
    return alerts_check_all()
