"""One-off django-q schedules: run a task once, later (a retry, a debounced evaluation).

Best effort on purpose, like every queueing here: a schedule that cannot be created is logged
and the work is found again by its app's recovery (the recovery tick and the `events` job).
"""

from __future__ import annotations

import logging
from datetime import datetime

logger = logging.getLogger(__name__)


def task_schedule_once(*, func: str, arg: int, when: datetime) -> None:
    """Run the task `func(arg)` once at `when`."""
    from django_q.models import Schedule

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
