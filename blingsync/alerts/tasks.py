"""Kept for tasks and schedules queued before the alerts' checking and sending moved up to
`blingsync.operations.alerts` (issue 26): django-q stores a task's dotted path, so a task
queued, or the `blingsync:alerts` schedule made, by the previous version still calls these
names once after an upgrade (`setup_schedules` points the schedule at the new path). New ones
use `blingsync.operations.alerts.tasks`. Nothing in the app imports this module."""

from __future__ import annotations

from blingsync.operations.alerts.tasks import (  # noqa: F401
    alert_check_task,
    alert_send_task,
    alerts_periodic_task,
)
