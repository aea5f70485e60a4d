"""The django-q schedules of blingsync's sweeps, created idempotently."""

from __future__ import annotations

from dataclasses import dataclass

from django_q.models import Schedule

from blingsync.alerts.schedules import alert_schedules_setup


@dataclass(frozen=True)
class ScheduleSpec:
    kind: str
    minutes: int

    @property
    def name(self) -> str:
        return f"blingsync:{self.kind}"


SCHEDULES = [
    ScheduleSpec("codes", 15),
    ScheduleSpec("stock", 30),
    ScheduleSpec("orders", 10),
    ScheduleSpec("invoices", 10),
    ScheduleSpec("categories", 24 * 60),
    ScheduleSpec("tokens", 60),
    ScheduleSpec("events", 60),
]


def schedules_setup() -> list[tuple[str, bool]]:
    """Create missing schedules; existing ones keep the cadence staff gave them.

    Returns (name, created) pairs.
    """
    results = []
    for spec in SCHEDULES:
        schedule, created = Schedule.objects.get_or_create(
            name=spec.name,
            defaults={
                "func": "blingsync.tasks.scheduled_job",
                "args": repr(spec.kind),
                "schedule_type": Schedule.MINUTES,
                "minutes": spec.minutes,
                "repeats": -1,
            },
        )
        if not created and (
            schedule.func != "blingsync.tasks.scheduled_job" or schedule.args != repr(spec.kind)
        ):
            # What runs is ours to fix; when it runs belongs to staff.
            schedule.func = "blingsync.tasks.scheduled_job"
            schedule.args = repr(spec.kind)
            schedule.save(update_fields=["func", "args"])
        results.append((spec.name, created))
    results.extend(alert_schedules_setup())
    return results
