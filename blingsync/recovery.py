"""The recovery tick: every minute, take back work whose worker died (SPEC 5.6).

Each app registers the safety net of what it owns in its `recovery.py` (autodiscovered at
start, like `jobs.py`): the rows waiting for recovery (those whose `recover_at` has passed),
how to take them back, and optionally the sweep the hourly `events` job runs as a last net.
The webhooks app registers its events (`webhooks.recovery`), the products app its stock
evaluations (`products.recovery`); this module knows neither.

One indexed query when there is nothing to do: does any registered row have a `recover_at`
in the past (partial indexes on `recover_at`, which is NULL on every settled row)? Only then
does it take back what is due, app by app. With a 60 s lease and a 60 s grace for pending
events, an event whose worker was SIGKILLed is queued again about two minutes after the kill,
so within 3 minutes of the worker's restart. Retention stays in the hourly `events` job.

Recovery does not depend on the minute schedule (SPEC 5.6): a starting cluster queues
`recovery_at_start` (`BlingsyncConfig.ready`, in the `qcluster` process), which takes back
whatever is due at once and comes back (a one-off schedule) when the claims the killed
worker may still hold expire (`Recovery.held_until`); and `process_events`, the command an
operator runs after a crash or without a cluster, takes back what needs no queue first
(`recovery_reclaim`: `Recovery.reclaim`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from blingsync.runtime import mode_is_paused
from blingsync.task_queue import task_schedule_once

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recovery:
    """One app's safety net.

    `name`: the prefix of its counts in the tick's summary (`<name>_released`,
    `<name>_requeued`). `waiting(now)`: a `values("pk")` queryset of its rows due for
    recovery. `recover(now=)`: takes them back, returns {"released": n, "requeued": n}.
    `sweep(dry_run=)`: the hourly net the `events` job runs, noted on the run as
    `sweep_note` (None: none). `held_until(now)`: when the last claim still held on its rows
    expires (None: none held), so a starting cluster knows when to look again.
    `reclaim(now=)`: what `process_events` does before draining in its own process: take
    back what needs no queue (e.g. release expired claims); returns its counts.
    `at_start(now=)`: what a starting cluster runs instead of `recover` (e.g. queue every
    waiting row at once, not only the overdue ones). Counts other than
    "released"/"requeued" are reported too, as `<name>_<count>`."""

    name: str
    waiting: Callable[[datetime], QuerySet[Any, Any]]
    recover: Callable[..., dict[str, int]]
    sweep: Callable[..., Any] | None = None
    sweep_note: str = ""
    held_until: Callable[[datetime], datetime | None] | None = None
    reclaim: Callable[..., dict[str, int]] | None = None
    at_start: Callable[..., dict[str, int]] | None = None


_RECOVERIES: dict[str, Recovery] = {}


def register_recovery(recovery: Recovery) -> Recovery:
    """Register an app's safety net (at import of its `recovery.py`)."""
    _RECOVERIES[recovery.name] = recovery
    return recovery


def recoveries() -> list[Recovery]:
    return list(_RECOVERIES.values())


def recovery_due(*, now: datetime | None = None) -> bool:
    """Whether anything waits for recovery (one query over every app's partial index)."""
    now = now or timezone.now()
    waiting = [recovery.waiting(now) for recovery in recoveries()]
    if not waiting:
        return False
    first, *others = waiting
    return first.union(*others, all=True).exists()


def recovery_tick(*, now: datetime | None = None, start: bool = False) -> dict[str, int] | None:
    """Recover what is due; None when nothing was (the idle case: one query). `start`: a
    starting cluster: every app's rows, without the idle check, with its `at_start`."""
    now = now or timezone.now()
    if not start and not recovery_due(now=now):
        return None
    if mode_is_paused():
        return {"paused": 1}  # paused: nothing is processed, so nothing is queued either
    summary: dict[str, int] = {}
    for recovery in recoveries():
        recover = recovery.at_start if start and recovery.at_start else recovery.recover
        counts = recover(now=now)
        for key, value in counts.items():
            summary[f"{recovery.name}_{key}"] = value
    logger.info("recovery tick: %s", summary)
    return summary


def recovery_reclaim(*, now: datetime | None = None) -> dict[str, int]:
    """For a process that drains the work itself (`process_events`): every app takes back
    what needs no queue (expired claims, open write intents); returns the counts."""
    now = now or timezone.now()
    summary: dict[str, int] = {}
    for recovery in recoveries():
        if recovery.reclaim is not None:
            for key, value in recovery.reclaim(now=now).items():
                summary[f"{recovery.name}_{key}"] = value
    return summary


START_TASK = "blingsync.tasks.recovery_at_start_task"
# A starting cluster looks again at most this many times, as the claims expire.
START_ROUNDS = 4


def recovery_claims_held_until(*, now: datetime) -> datetime | None:
    """When the last claim still held (perhaps by a killed worker) expires, if any."""
    moments = [r.held_until(now) for r in recoveries() if r.held_until is not None]
    future = [moment for moment in moments if moment is not None and moment > now]
    return max(future) if future else None


def recovery_at_start(*, round_: int = 0, now: datetime | None = None) -> dict[str, int] | None:
    """A cluster started: take back what its predecessor left now, and look again (a
    one-off schedule) once the claims still held expire."""
    now = now or timezone.now()
    summary = recovery_tick(now=now, start=round_ == 0)
    held = recovery_claims_held_until(now=now)
    if held is not None and round_ + 1 < START_ROUNDS:
        when = held + timedelta(seconds=1)
        task_schedule_once(func=START_TASK, arg=round_ + 1, when=when)
        logger.info("recovery at start: claims held until %s; again then", when.isoformat())
    return summary


def recovery_sweeps_run(*, dry_run: bool) -> dict[str, Any]:
    """Every app's hourly net, in `dry_run` as the calling run; {sweep_note: its result}."""
    return {
        recovery.sweep_note: recovery.sweep(dry_run=dry_run)
        for recovery in recoveries()
        if recovery.sweep is not None
    }
