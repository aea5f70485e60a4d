"""What the client reports as it works, for the app around it to act on.

The client knows nothing of job runs, the audit log or alerts; it notifies typed events here
and the app subscribes (wired in `BlingsyncConfig.ready`, so web, workers, commands and tests
all see the same subscriptions):
- `RequestSent`: one HTTP request left for Bling (API or token endpoint);
- `ResponseReceived`: Bling answered an API request (status, seconds);
- `Throttled`: Bling answered 429 "per second" and the shared rate went down;
- `TokenRefreshStarted` / `TokenRefreshFinished` / `TokenRefreshFailed`: one call to the
  token endpoint with the refresh token, by the process holding the lease; the last two carry
  the start event, so a subscriber can pair them (intent, then outcome);
- `NeedsReconnect`: Bling refused the refresh token (or no key opens the stored tokens): the
  connection was marked "needs reconnect".

Subscribers run synchronously, in the caller's thread and context, in subscription order. A
subscriber's exception is logged and swallowed: what the app does with an event never breaks
the Bling call that reported it. The one exception is an intent that must be on record before
the call (`TokenRefreshStarted`, notified with `strict=True`): its subscriber's error stops
the call.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RequestSent:
    """One HTTP request sent to Bling, API or token endpoint (after its rate-limit slot,
    before the answer)."""

    method: str
    path: str
    # Seconds spent waiting for the rate-limit slot before sending (0 for token calls).
    waited: float = 0.0


@dataclass(frozen=True)
class ResponseReceived:
    """Bling answered an API request (any status) `seconds` after it was sent."""

    method: str
    path: str
    status: int
    seconds: float


@dataclass(frozen=True)
class Throttled:
    """A 429 "per second": the shared effective rate went from `rate_before` to
    `rate_after` calls per second."""

    method: str
    path: str
    rate_before: float
    rate_after: float


# eq=False: each start is its own key (identity hash), so subscribers can keep what they
# opened for it in a WeakKeyDictionary that empties itself when the refresh is over.
@dataclass(frozen=True, eq=False)
class TokenRefreshStarted:
    """The lease holder is about to call the token endpoint with the refresh token."""

    reason: str
    expires_at_before: datetime | None


@dataclass(frozen=True)
class TokenRefreshFinished:
    """The new token pair (with the rotated refresh token) is stored, before anyone uses
    the new access token."""

    started: TokenRefreshStarted
    expires_at: datetime
    scope: str


@dataclass(frozen=True)
class TokenRefreshFailed:
    """The refresh failed: Bling refused it or did not answer (`error`: the exception's
    text, never a token)."""

    started: TokenRefreshStarted
    error: str


@dataclass(frozen=True)
class NeedsReconnect:
    """The connection was just marked "needs reconnect" (the state changed)."""

    connection_id: int
    error: str


Event = TypeVar("Event")

_subscribers: dict[type, list[Callable[[Any], None]]] = {}
_lock = threading.Lock()


def observers_subscribe(event_type: type[Event], handler: Callable[[Event], None]) -> None:
    """Call `handler(event)` for every `event_type` notified; subscribing twice is a no-op
    (the app's ready() may run more than once in tests)."""
    with _lock:
        handlers = _subscribers.setdefault(event_type, [])
        if handler not in handlers:
            handlers.append(handler)


def observers_unsubscribe(event_type: type[Event], handler: Callable[[Event], None]) -> None:
    with _lock:
        handlers = _subscribers.get(event_type, [])
        if handler in handlers:
            handlers.remove(handler)


def observers_notify(event: object, *, strict: bool = False) -> None:
    """Hand `event` to its subscribers. A subscriber's error is logged and the Bling call
    goes on, except with `strict=True`: for an intent that must be recorded before the call
    (the audit of a token refresh, a write to Bling), the error propagates and the call is
    not made, as when the audit was written here directly."""
    for handler in tuple(_subscribers.get(type(event), ())):
        if strict:
            handler(event)
            continue
        try:
            handler(event)
        except Exception:
            logger.exception(
                "bling observer %s failed on %s", getattr(handler, "__qualname__", handler), event
            )
