"""django-q task entry points of the webhooks app (thin: they call the services)."""

from __future__ import annotations

from products.tasks import stock_evaluation_task as _stock_evaluation_task
from webhooks.processing import event_process


def process_event_task(event_pk: int) -> str:
    """Process one stored event (queued by the receiver, a retry, recovery or reprocess)."""
    return event_process(event_id=event_pk)


def stock_evaluation_task(product_id: int) -> str:
    """Kept for tasks and one-off schedules created before the stock evaluations moved to
    `products` (issue 17): django-q stores the task's dotted path, so a schedule made by the
    previous version still calls this name once after an upgrade. New ones use
    `products.tasks.stock_evaluation_task`."""
    return _stock_evaluation_task(product_id)


def recovery_tick_task() -> dict | None:
    """Every minute (schedule `blingsync:recovery`): take back work whose worker died."""
    from webhooks.recovery import recovery_tick

    return recovery_tick()


def recovery_at_start_task(round_: int = 0) -> dict | None:
    """Queued when a cluster starts (`WebhooksConfig.ready`), and again as the claims a
    killed worker left expire: recovery without the minute schedule."""
    from webhooks.recovery import recovery_at_start

    return recovery_at_start(round_=round_)
