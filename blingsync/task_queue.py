"""Handing work to django-q, in one place: a task now (`task_queue_now`), held by the broker
until a time (`task_enqueue_at`: a debounced evaluation), or once, later, by a one-off schedule
(`task_schedule_once`: a retry minutes away).

The cluster's scheduler looks at schedules about every 30 s, so a schedule runs up to 30 s
late; `task_enqueue_at` hands the task to the broker, which keeps it from the workers until
its time (`blingsync.task_broker`) and costs no polling of its own.

Best effort on purpose, like every queueing here: a schedule that cannot be created is logged
and the work is found again by its app's recovery (the recovery tick and the `events` job).
`task_queue_now` raises what the broker raises: each caller says what covers a lost task.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django_q.models import Schedule
from django_q.tasks import async_task

from blingsync.task_broker import broker_delays, task_delay

logger = logging.getLogger(__name__)


def task_queue_now(*, func: str, arg: int | str, task_name: str) -> None:
    """Queue the task `func(arg)` for the cluster, named `task_name`."""
    async_task(func, arg, task_name=task_name)


def task_schedule_once(*, func: str, arg: int, when: datetime) -> None:
    """Run the task `func(arg)` once at `when`."""
    try:
        Schedule.objects.create(
            func=func,
            args=repr(arg),
            schedule_type=Schedule.ONCE,
            repeats=-1,  # a ONCE schedule with negative repeats deletes itself after running
            next_run=when,
        )
    except Exception:
        logger.exception("could not schedule %s(%s); the events job will pick it up", func, arg)


def task_enqueue_at(*, func: str, arg: int, when: datetime, task_name: str = "") -> None:
    """Run the task `func(arg)` once at `when`, taken by a worker within the broker's poll.
    Falls back to a one-off schedule where the broker cannot hold a task (the tests' inline
    mode, a broker configured by hand)."""
    if not broker_delays():
        task_schedule_once(func=func, arg=arg, when=when)
        return
    try:
        with task_delay(when):
            async_task(func, arg, task_name=task_name or f"{func.rsplit('.', 1)[-1]}-{arg}")
    except Exception:
        logger.exception("could not queue %s(%s) for later; recovery picks it up", func, arg)
