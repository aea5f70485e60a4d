"""Handing webhook events to the django-q queue: now or later (a one-off
Schedule). The stock evaluations' queueing lives with them (`products.stock_evaluations`).

Queueing is best effort on purpose: a task that is lost (broker down, worker killed) is found
again by the `events` job, which re-queues stale pending events and due retries. A task that
is queued twice is harmless: processing claims its row first.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction

from blingsync.task_queue import task_queue_now, task_schedule_once

logger = logging.getLogger(__name__)

PROCESS_TASK = "webhooks.tasks.process_event_task"


def event_enqueue(*, event_pk: int) -> None:
    """Queue the processing of one stored event (call it from `transaction.on_commit`)."""
    try:
        task_queue_now(func=PROCESS_TASK, arg=event_pk, task_name=f"webhook-event-{event_pk}")
    except Exception:
        # The event is stored; the recovery sweep will queue it again.
        logger.exception("could not queue webhook event %s; the events job will retry", event_pk)


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
    try:
        with transaction.atomic():
            task_queue_now(func=PROCESS_TASK, arg=event_pk, task_name=f"webhook-event-{event_pk}")
    except Exception:
        logger.exception("could not queue webhook event %s; the events job will retry", event_pk)


def event_enqueue_at(*, event_pk: int, when: datetime) -> None:
    """Queue a retry of an event for `when`."""
    task_schedule_once(func=PROCESS_TASK, arg=event_pk, when=when)
