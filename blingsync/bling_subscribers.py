"""What the app does when the Bling client reports something (`blingsync.bling.observers`):
- every request sent counts as an API call of the current job run, and a 429 "per second" is
  noted in the run's details (the job runner's subscribers);
- a token refresh is audited as intent (before the call to the token endpoint) and outcome
  (after it), action `token_refreshed`;
- a connection marked "needs reconnect" raises the alert of that kind;
- every request and its answer join the latency trace of the work under way, if any
  (`blingsync.latency`).

`bling_subscriptions_wire` is called by `BlingsyncConfig.ready`, so web, workers, commands and
tests all run with these subscriptions.
"""

from __future__ import annotations

import threading
from weakref import WeakKeyDictionary

from blingsync.alerts.triggers import alert_needs_reconnect
from blingsync.audit import audit_begin, audit_complete
from blingsync.bling.observers import (
    NeedsReconnect,
    RequestSent,
    ResponseReceived,
    Throttled,
    TokenRefreshFailed,
    TokenRefreshFinished,
    TokenRefreshStarted,
    observers_subscribe,
)
from blingsync.jobrunner import bling_request_counted, bling_throttle_noted
from blingsync.latency import latency_request_sent, latency_response_received
from blingsync.models import AuditLog

# The intent entry of each refresh under way, until its outcome; keyed by the start event,
# which the client drops when the refresh is over (so an entry never outlives it).
_refresh_entries: WeakKeyDictionary[TokenRefreshStarted, AuditLog] = WeakKeyDictionary()
_refresh_entries_lock = threading.Lock()


def token_refresh_audit_begin(event: TokenRefreshStarted) -> None:
    """Record the intent of a token refresh (never a token: only the old expiry)."""
    expires_at = event.expires_at_before
    entry = audit_begin(
        action=AuditLog.Action.TOKEN_REFRESHED,
        dry_run=False,
        before={"expires_at": expires_at.isoformat() if expires_at else None},
        reason=event.reason,
        reason_rule="token.refreshed",
        reason_data={"why": event.reason},
    )
    with _refresh_entries_lock:
        _refresh_entries[event] = entry


def _refresh_entry_pop(started: TokenRefreshStarted) -> AuditLog | None:
    with _refresh_entries_lock:
        return _refresh_entries.pop(started, None)


def token_refresh_audit_finished(event: TokenRefreshFinished) -> None:
    entry = _refresh_entry_pop(event.started)
    if entry is not None:
        audit_complete(
            entry,
            ok=True,
            after={"expires_at": event.expires_at.isoformat(), "scope": event.scope},
        )


def token_refresh_audit_failed(event: TokenRefreshFailed) -> None:
    entry = _refresh_entry_pop(event.started)
    if entry is not None:
        audit_complete(entry, ok=False, error=event.error)


def needs_reconnect_alerted(event: NeedsReconnect) -> None:
    alert_needs_reconnect()


def bling_subscriptions_wire() -> None:
    """Subscribe the app to the client's events (idempotent)."""
    observers_subscribe(RequestSent, bling_request_counted)
    observers_subscribe(RequestSent, latency_request_sent)
    observers_subscribe(ResponseReceived, latency_response_received)
    observers_subscribe(Throttled, bling_throttle_noted)
    observers_subscribe(TokenRefreshStarted, token_refresh_audit_begin)
    observers_subscribe(TokenRefreshFinished, token_refresh_audit_finished)
    observers_subscribe(TokenRefreshFailed, token_refresh_audit_failed)
    observers_subscribe(NeedsReconnect, needs_reconnect_alerted)
