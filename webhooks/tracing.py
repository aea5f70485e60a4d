"""Processing an event with its latency traced (`blingsync.latency`): the worker's entry point.

One log line per event says where its time went: from `received_at` (stored by the receiver)
to the task picked up by a worker (the queue), the claim, each Bling call with its wait for
the rate-limit slot, and the outcome recorded.
"""

from __future__ import annotations

from blingsync.latency import latency_trace
from webhooks.models import WebhookEvent
from webhooks.processing import event_process


def event_process_traced(*, event_id: int) -> str:
    """`event_process` inside a latency trace whose origin is the event's arrival."""
    row = WebhookEvent.objects.filter(pk=event_id).values("received_at", "event_type").first()
    with latency_trace(
        label=f"event:{event_id}", origin=row["received_at"] if row else None
    ) as trace:
        trace.note(type=row["event_type"] if row else "")
        outcome = event_process(event_id=event_id)
        trace.note(outcome=outcome)
    return outcome
