"""Handing webhook work to the django-q queue: now (async_task) or later (a one-off Schedule).

Queueing is best effort on purpose: a task that is lost (broker down, worker killed) is found
again by the `events` job, which re-queues stale pending events, due retries and due stock
evaluations. A task that is queued twice is harmless: processing claims its row first.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction

logger = logging.getLogger(__name__)

PROCESS_TASK = "webhooks.tasks.process_event_task"
EVALUATE_TASK = "webhooks.tasks.stock_evaluation_task"


def event_enqueue(*, event_pk: int) -> None:
    """Queue the processing of one stored event (call it from `transaction.on_commit`)."""
    from django_q.tasks import async_task

    try:
        async_task(PROCESS_TASK, event_pk, task_name=f"webhook-event-{event_pk}")
    except Exception:
        # The event is stored; the recovery sweep will queue it again.
        logger.exception("could not queue webhook event %s; the events job will retry", event_pk)


def stock_evaluation_enqueue(*, product_id: int) -> None:
    """Queue the sold-out evaluation of a product now (recovery of a lost or killed one)."""
    from django_q.tasks import async_task

    try:
        async_task(EVALUATE_TASK, product_id, task_name=f"stock-evaluation-{product_id}")
    except Exception:
        logger.exception("could not queue the stock evaluation of %s; recovery retries", product_id)


def enqueue_joins_transaction() -> bool:
    """Whether the receiver may queue inside its own transaction instead of after commit.

    With the ORM broker the task is a row in the same database: inserting it in the
    event's transaction gives exactly what `on_commit` promises (no worker sees a task
    whose event was rolled back) in one write transaction instead of two. That matters on
    SQLite, where every write transaction queues for the single write lock, and because the
    broker closes and reopens the connection when called in autocommit mode (after commit).
    Other brokers (Redis) and the inline mode of the tests queue after commit.
    """
    from django_q.conf import Conf

    return bool(getattr(Conf, "ORM", None)) and not Conf.SYNC


def event_enqueue_in_transaction(*, event_pk: int) -> None:
    """Queue inside the current transaction (ORM broker only, see enqueue_joins_transaction);
    a failure rolls back only its savepoint and leaves the event to the recovery sweep."""
    from django_q.tasks import async_task

    try:
        with transaction.atomic():
            async_task(PROCESS_TASK, event_pk, task_name=f"webhook-event-{event_pk}")
    except Exception:
        logger.exception("could not queue webhook event %s; the events job will retry", event_pk)


def _schedule_once(*, func: str, arg: int, when: datetime) -> None:
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


def event_enqueue_at(*, event_pk: int, when: datetime) -> None:
    """Queue a retry of an event for `when`."""
    _schedule_once(func=PROCESS_TASK, arg=event_pk, when=when)


def stock_evaluation_enqueue_at(*, product_id: int, when: datetime) -> None:
    """Queue the debounced sold-out evaluation of a product for `when`."""
    _schedule_once(func=EVALUATE_TASK, arg=product_id, when=when)
