"""Handing work to django-q, in one place: a task now (`task_queue_now`) or once, later
(`task_schedule_once`: a retry, a debounced evaluation).

Best effort on purpose, like every queueing here: a schedule that cannot be created is logged
and the work is found again by its app's recovery (the recovery tick and the `events` job).
`task_queue_now` raises what the broker raises: each caller says what covers a lost task.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django_q.models import Schedule
from django_q.tasks import async_task

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
