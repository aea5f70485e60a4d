"""The schedule of the periodic alert check (count-based alerts, the daily summary at its
time, retries of messages not sent), created idempotently by `setup_schedules`."""

from __future__ import annotations

from django_q.models import Schedule

ALERTS_SCHEDULE = "blingsync:alerts"
ALERTS_FUNC = "blingsync.operations.alerts.tasks.alerts_periodic_task"
ALERTS_MINUTES = 5


def alert_schedules_setup() -> list[tuple[str, bool]]:
    """Create the schedule if missing; an existing one keeps the cadence staff gave it."""
    schedule, created = Schedule.objects.get_or_create(
        name=ALERTS_SCHEDULE,
        defaults={
            "func": ALERTS_FUNC,
            "schedule_type": Schedule.MINUTES,
            "minutes": ALERTS_MINUTES,
            "repeats": -1,
        },
    )
    if not created and schedule.func != ALERTS_FUNC:
        schedule.func = ALERTS_FUNC
        schedule.save(update_fields=["func"])
    return [(ALERTS_SCHEDULE, created)]
