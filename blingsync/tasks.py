"""django-q2 task entry points of the core app (thin: they call the job runner)."""

from __future__ import annotations

from blingsync.jobrunner import job_run_execute, job_run_now
from blingsync.models import JobRun
from blingsync.recovery import recovery_at_start, recovery_tick
from blingsync.schedule_gate import scheduled_run_wanted


def job_run_task(run_id: int) -> str:
    """Execute a run queued by the admin, a rerun or a command."""
    run = job_run_execute(run_id=run_id)
    return run.status


def recovery_tick_task() -> dict | None:
    """Every minute (schedule `blingsync:recovery`): take back work whose worker died."""
    return recovery_tick()


def recovery_at_start_task(round_: int = 0) -> dict | None:
    """Queued when a cluster starts (`BlingsyncConfig.ready`), and again as the claims a
    killed worker left expire: recovery without the minute schedule."""
    return recovery_at_start(round_=round_)


def scheduled_job(kind: str) -> str:
    """What a django-q Schedule calls: one run of `kind`, triggered by the schedule (none
    while Bling was never connected: the dashboard asks to connect instead)."""
    if not scheduled_run_wanted(kind=kind):
        return "not_connected"
    run = job_run_now(kind=kind, trigger=JobRun.Trigger.SCHEDULE)
    return run.status
