"""The django-q schedules of blingsync's sweeps, created idempotently."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django_q.models import Schedule

from blingsync.operations.alerts.schedules import alert_schedules_setup

JOB_FUNC = "blingsync.tasks.scheduled_job"


@dataclass(frozen=True)
class ScheduleSpec:
    kind: str
    minutes: int
    # A plain task instead of a recorded job run (no JobRun row each time): `kind` then only
    # names the schedule.
    func: str = JOB_FUNC
    # What staff read in the schedules admin for a plain task (a job's is its kind's label).
    label: str | Promise = ""

    @property
    def name(self) -> str:
        return f"blingsync:{self.kind}"

    @property
    def args(self) -> str:
        return repr(self.kind) if self.func == JOB_FUNC else ""


SCHEDULES = [
    ScheduleSpec("codes", 15),
    ScheduleSpec("stock", 30),
    ScheduleSpec("orders", 10),
    ScheduleSpec("invoices", 10),
    ScheduleSpec("categories", 24 * 60),
    ScheduleSpec("tokens", 60),
    ScheduleSpec("events", 60),
    # Recovery of events and stock evaluations whose worker died: one indexed query a minute
    # when idle (blingsync.recovery, each app's net in its recovery.py); retention keeps the hourly `events` job.
    ScheduleSpec(
        "recovery",
        1,
        func="blingsync.tasks.recovery_tick_task",
        label=_("recuperação de eventos e avaliações de estoque interrompidos"),
    ),
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
                "func": spec.func,
                "args": spec.args,
                "schedule_type": Schedule.MINUTES,
                "minutes": spec.minutes,
                "repeats": -1,
            },
        )
        if not created and (
            (schedule.func or "") != spec.func or (schedule.args or "") != spec.args
        ):
            # What runs is ours to fix; when it runs belongs to staff.
            schedule.func = spec.func
            schedule.args = spec.args
            schedule.save(update_fields=["func", "args"])
        results.append((spec.name, created))
    results.extend(alert_schedules_setup())
    return results
