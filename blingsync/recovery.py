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
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from blingsync.runtime import mode_is_paused

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recovery:
    """One app's safety net.

    `name`: the prefix of its counts in the tick's summary (`<name>_released`,
    `<name>_requeued`). `waiting(now)`: a `values("pk")` queryset of its rows due for
    recovery. `recover(now=)`: takes them back, returns {"released": n, "requeued": n}.
    `sweep(dry_run=)`: the hourly net the `events` job runs, noted on the run as
    `sweep_note` (None: none)."""

    name: str
    waiting: Callable[[datetime], QuerySet[Any, Any]]
    recover: Callable[..., dict[str, int]]
    sweep: Callable[..., Any] | None = None
    sweep_note: str = ""


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


def recovery_tick(*, now: datetime | None = None) -> dict[str, int] | None:
    """Recover what is due; None when nothing was (the idle case: one query)."""
    now = now or timezone.now()
    if not recovery_due(now=now):
        return None
    if mode_is_paused():
        return {"paused": 1}  # paused: nothing is processed, so nothing is queued either
    summary: dict[str, int] = {}
    for recovery in recoveries():
        counts = recovery.recover(now=now)
        summary[f"{recovery.name}_released"] = counts["released"]
        summary[f"{recovery.name}_requeued"] = counts["requeued"]
    logger.info("recovery tick: %s", summary)
    return summary


def recovery_sweeps_run(*, dry_run: bool) -> dict[str, Any]:
    """Every app's hourly net, in `dry_run` as the calling run; {sweep_note: its result}."""
    return {
        recovery.sweep_note: recovery.sweep(dry_run=dry_run)
        for recovery in recoveries()
        if recovery.sweep is not None
    }
