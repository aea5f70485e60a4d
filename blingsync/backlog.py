"""Queueing the webhook inbox's recovery run when a blockage ends (resume from paused,
reconnect to Bling), so waiting events do not sit until the next scheduled `events` run."""

from __future__ import annotations

from blingsync.jobrunner import job_run_queue
from blingsync.models import JobRun


def inbox_backlog_queue(*, requested_by: str) -> JobRun:
    """Queue one `events` run (recovery re-queues the pending events) after commit."""
    return job_run_queue(
        kind=JobRun.Kind.EVENTS,
        trigger=JobRun.Trigger.WEBHOOK_BACKLOG,
        params={"all_pending": True},
        requested_by=requested_by,
    )
