"""Job kind `events` of the webhooks app: recovery and retention of the inbox.

It runs in paused mode too, for retention only: recovery would queue processing, and paused
means nothing is processed. Recovery is internal bookkeeping, so the installation's dry-run
mode does not stop it (processing itself honours dry-run); the other apps' hourly nets
(`blingsync.recovery`: due stock evaluations) run in the run's mode (`ctx.dry_run`: asked for, or the installation's), and an explicit `dry_run`
parameter on the run also only counts what retention would delete.
"""

from __future__ import annotations

from blingsync.jobrunner import JobContext, register_job
from blingsync.models import RuntimeSettings
from blingsync.recovery import recovery_sweeps_run
from blingsync.runtime import mode_is_paused
from webhooks.maintenance import events_purge, events_purgeable_count, events_recover


@register_job("events", runs_when_paused=True, uses_since=False)
def events_job(ctx: JobContext) -> None:
    settings_row = RuntimeSettings.load()
    if mode_is_paused():
        ctx.note("recovery", "paused: nothing queued")
    else:
        recovered = events_recover(all_pending=bool(ctx.params.get("all_pending")))
        ctx.note("released", recovered["released"])
        ctx.note("requeued", recovered["requeued"])
        ctx.count("seen", recovered["requeued"])
        ctx.count("changed", recovered["requeued"])
        # The other apps' hourly nets (the stock evaluations: `products.recovery`).
        for note, result in recovery_sweeps_run(dry_run=ctx.dry_run).items():
            ctx.note(note, result)
    retention = settings_row.event_retention_days
    if ctx.params.get("dry_run"):
        ctx.note("would_delete", events_purgeable_count(retention_days=retention))
        return
    deleted = events_purge(retention_days=retention)
    ctx.note("deleted", deleted)
    ctx.count("changed", deleted)
