"""Where the time of one piece of work goes: a trace per webhook event, one log line at its end.

The worker opens a trace when it picks a task up (`latency_trace`); the app marks its own
stages on it (`latency_mark`: the claim, the outcome recorded), and every Bling call made
meanwhile joins it through the client's observers (`RequestSent` carries the wait for the
rate-limit slot, `ResponseReceived` the HTTP time and status). At the end the trace is written
as ONE log line (logger `blingsync.latency`, INFO), times in seconds from the trace's origin
(the event's `received_at`, so the first stage is the queue: stored -> picked up by a worker):

    latency {"trace": "event:12", "type": "product.created", "outcome": "processed",
             "total": 1.21, "stages": [{"stage": "picked", "at": 0.05}, {"stage": "claimed",
             "at": 0.06}, {"stage": "bling", "method": "GET", "path": "/produtos/9",
             "at": 0.07, "wait": 0.0, "http": 0.02, "status": 200}, ...,
             {"stage": "done", "at": 1.21}], "calls": 5, "limiter_wait": 0.74, "http": 0.1}

Cheap on purpose: nothing is recorded outside a trace, a trace is a list in a context variable,
and it costs one log line per event. No payloads, no query strings, no tokens: a call is its
method and path (ids only). `bench/latency.py` reads these lines for its per-stage breakdown.
"""

from __future__ import annotations

import contextvars
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from blingsync.bling.observers import RequestSent, ResponseReceived

logger = logging.getLogger(__name__)


@dataclass
class LatencyTrace:
    """The stages of one piece of work (wall-clock epoch seconds) and what to say about it."""

    label: str
    origin: float
    stages: list[dict[str, Any]] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)
    _sent: dict[str, Any] | None = None

    def mark(self, stage: str, **extra: Any) -> None:
        self.stages.append({"stage": stage, "at": time.time(), **extra})

    def note(self, **extra: Any) -> None:
        """Fields for the final line (e.g. the event's type, the outcome)."""
        self.fields.update(extra)

    def line(self, *, now: float) -> dict[str, Any]:
        stages = [
            {**s, "at": round(s["at"] - self.origin, 3)}
            for s in sorted(self.stages, key=lambda s: s["at"])
        ]
        calls = [s for s in stages if s["stage"] == "bling"]
        return {
            "trace": self.label,
            **self.fields,
            "total": round(now - self.origin, 3),
            "stages": stages,
            "calls": len(calls),
            "limiter_wait": round(sum(c.get("wait", 0.0) for c in calls), 3),
            "http": round(sum(c.get("http", 0.0) for c in calls), 3),
        }


_current: contextvars.ContextVar[LatencyTrace | None] = contextvars.ContextVar(
    "blingsync_latency_trace", default=None
)


@contextmanager
def latency_trace(*, label: str, origin: datetime | None = None) -> Iterator[LatencyTrace]:
    """Trace the work done inside the block; `origin`: when the work was asked for (e.g. the
    event's `received_at`), else now. Marks "picked" at the start and "done" at the end, then
    logs the line (also when the block raises)."""
    started = time.time()
    trace = LatencyTrace(label=label, origin=origin.timestamp() if origin else started)
    trace.stages.append({"stage": "picked", "at": started})
    token = _current.set(trace)
    try:
        yield trace
    finally:
        _current.reset(token)
        now = time.time()
        trace.stages.append({"stage": "done", "at": now})
        logger.info("latency %s", json.dumps(trace.line(now=now), separators=(",", ":")))


def latency_mark(stage: str, **extra: Any) -> None:
    """Record a stage of the current trace (no trace: nothing)."""
    trace = _current.get()
    if trace is not None:
        trace.mark(stage, **extra)


def latency_request_sent(event: RequestSent) -> None:
    """Subscriber of the client's `RequestSent`: a call of the current trace leaves."""
    trace = _current.get()
    if trace is None:
        return
    call = {
        "stage": "bling",
        "method": event.method,
        "path": event.path,
        "at": time.time(),
        "wait": round(event.waited, 3),
    }
    trace.stages.append(call)
    trace._sent = call


def latency_response_received(event: ResponseReceived) -> None:
    """Subscriber of the client's `ResponseReceived`: completes the call just sent."""
    trace = _current.get()
    if trace is None or trace._sent is None:
        return
    trace._sent.update(http=round(event.seconds, 3), status=event.status)
    trace._sent = None
