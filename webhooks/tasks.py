"""django-q task entry points of the webhooks app (thin: they call the services)."""

from __future__ import annotations

from blingsync.recovery import recovery_tick
from products.tasks import stock_evaluation_task as _stock_evaluation_task
from webhooks.tracing import event_process_traced


def process_event_task(event_pk: int) -> str:
    """Process one stored event (queued by the receiver, a retry, recovery or reprocess)."""
    return event_process_traced(event_id=event_pk)


def stock_evaluation_task(product_id: int) -> str:
    """Kept for tasks and one-off schedules created before the stock evaluations moved to
    `products` (issue 17): django-q stores the task's dotted path, so a schedule made by the
    previous version still calls this name once after an upgrade. New ones use
    `products.tasks.stock_evaluation_task`."""
    return _stock_evaluation_task(product_id)


def recovery_tick_task() -> dict | None:
    """Kept for the schedule `blingsync:recovery` of installations set up before the tick
    moved to the core (django-q stores the dotted path until `setup_schedules` runs). New
    ones call `blingsync.tasks.recovery_tick_task`."""
    return recovery_tick()
