"""django-q task entry points of the webhooks app (thin: they call the services)."""

from __future__ import annotations

from webhooks.debounce import stock_evaluation_run
from webhooks.processing import event_process


def process_event_task(event_pk: int) -> str:
    """Process one stored event (queued by the receiver, a retry, recovery or reprocess)."""
    return event_process(event_id=event_pk)


def stock_evaluation_task(product_id: int) -> str:
    """Run the debounced sold-out evaluation of a product once its window has passed."""
    return stock_evaluation_run(product_id=product_id)


def recovery_tick_task() -> dict | None:
    """Every minute (schedule `blingsync:recovery`): take back work whose worker died."""
    from webhooks.recovery import recovery_tick

    return recovery_tick()
