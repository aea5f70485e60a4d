"""Access tokens for API calls: refreshed ahead of expiry and after a 401, by one process at
a time.

- A call finding the token within `refresh_margin` of expiry (or a 401) asks `token_renew`:
  `EXPIRY_MARGIN` (5 minutes), but never more than a quarter of the token's lifetime, so a
  short-lived token is not refreshed on every call (Bling blocks the IP after 20 token calls
  in 60 s).
- `token_renew` claims the refresh lease with a conditional UPDATE on
  `BlingConnection.refresh_lease_until` (no DB lock is held during the HTTP call). The winner
  calls the token endpoint and stores the new pair (with the rotated refresh token) in one
  UPDATE before anyone uses the new access token; the others poll the row and reuse it.
- A refused refresh (`invalid_grant`, any 4xx except an IP block or 429) marks the connection
  "needs reconnect" and nothing calls the token endpoint again until staff reconnect; a refusal
  that lost a race (the stored refresh token changed meanwhile) is ignored.
- A transient failure (Bling down, timeout, 429, IP block) keeps the lease as a cool-down, so
  the token endpoint is never hammered (Bling blocks the IP after 20 token calls in 60 s).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import requests
from django.conf import settings
from django.utils import timezone

from blingsync.bling.errors import BlingError, BlingNotConnected, BlingUnavailable
from blingsync.bling.http import (
    api_url,
    error_from_response,
    response_json,
    session_get,
    timeout_get,
)
from blingsync.bling.models import BlingConnection
from blingsync.bling.observers import (
    RequestSent,
    TokenRefreshFailed,
    TokenRefreshFinished,
    TokenRefreshStarted,
    observers_notify,
)
from blingsync.bling.token_store import (
    Status,
    connection_access_token,
    connection_lease_claim,
    connection_lease_release,
    connection_mark_needs_reconnect,
    connection_refresh_failed,
    connection_refresh_token,
    connection_require,
    connection_tokens_store,
)
from blingsync.bling.types import TokenBundle

logger = logging.getLogger(__name__)

# A call refreshes first when the token expires within this margin.
EXPIRY_MARGIN = timedelta(minutes=5)
# After a transient failure nobody calls the token endpoint again for this long.
FAILURE_COOLDOWN = timedelta(seconds=30)
# Bling blocks the IP for 60 minutes; trying again sooner only extends the block.
IP_BLOCK_COOLDOWN = timedelta(minutes=10)
_POLL_SECONDS = 0.1
DEFAULT_EXPIRES_IN = 21600


@dataclass(frozen=True)
class AccessToken:
    """A usable access token and the stored ciphertext it came from (a version stamp: a
    different ciphertext means someone stored a newer pair)."""

    connection_id: int
    token: str = field(repr=False)  # never in a repr (logs, tracebacks)
    ciphertext: str = field(repr=False)
    expires_at: datetime | None


def _snapshot(conn: BlingConnection) -> AccessToken:
    return AccessToken(
        connection_id=conn.pk,
        token=connection_access_token(conn),
        ciphertext=conn.access_token_encrypted,
        expires_at=conn.expires_at,
    )


def _lease_seconds() -> float:
    return 2 * timeout_get()[1] + 10


def _owner() -> str:
    return (
        f"{socket.gethostname()[:40]}:{os.getpid()}:{threading.get_ident()}:{uuid.uuid4().hex[:8]}"
    )


def refresh_margin(conn: BlingConnection, *, ahead: timedelta) -> timedelta:
    """How long before expiry the token is refreshed: `ahead`, capped at a quarter of the
    token's lifetime (unknown lifetime: `ahead`)."""
    if conn.token_lifetime_seconds is None:
        return ahead
    return min(ahead, timedelta(seconds=conn.token_lifetime_seconds / 4))


def _expiring(conn: BlingConnection, ahead: timedelta) -> bool:
    if conn.expires_at is None:
        return True
    return conn.expires_at - timezone.now() <= refresh_margin(conn, ahead=ahead)


def access_token_get() -> AccessToken:
    """The token for the next API call, refreshed first when it is about to expire.

    Raises BlingNotConnected (never connected / needs reconnect) and BlingUnavailable (the
    token expired and Bling cannot renew it right now).
    """
    conn = connection_require()
    current = _snapshot(conn)
    if not _expiring(conn, EXPIRY_MARGIN):
        return current
    try:
        return token_renew(stale=current, reason="expiring")
    except BlingUnavailable:
        if conn.expires_at is not None and conn.expires_at > timezone.now():
            return current  # still valid for a few minutes: use it, renew later
        raise


def token_refresh_if_due(*, margin: timedelta) -> bool:
    """Refresh when the token expires within `margin` (capped at a quarter of its lifetime,
    see `refresh_margin`): the `tokens` schedule. Returns whether a refresh happened (here
    or, concurrently, elsewhere)."""
    conn = connection_require()
    if not _expiring(conn, margin):
        return False
    current = _snapshot(conn)
    renewed = token_renew(stale=current, reason="scheduled")
    return renewed.ciphertext != current.ciphertext


def token_renew(*, stale: AccessToken, reason: str) -> AccessToken:
    """A newer token than `stale`: refreshed here if this caller wins the lease, otherwise
    the one another process (or thread) stores meanwhile."""
    owner = _owner()
    lease = _lease_seconds()
    deadline = time.monotonic() + lease + 5
    while True:
        conn = connection_require()
        if conn.access_token_encrypted != stale.ciphertext:
            return _snapshot(conn)
        if connection_lease_claim(connection=conn, owner=owner, seconds=lease):
            conn.refresh_from_db()
            if conn.access_token_encrypted != stale.ciphertext:
                # Renewed between our read and our claim.
                connection_lease_release(connection=conn, owner=owner)
                return _snapshot(conn)
            return _refresh_holding_lease(conn=conn, owner=owner, reason=reason)
        if conn.refresh_lease_owner == "cooldown":
            raise BlingUnavailable(
                status=None,
                error_type="token_refresh_cooldown",
                message=(
                    "A renovação do token do Bling falhou há pouco; nova tentativa após "
                    f"{timezone.localtime(conn.refresh_lease_until):%H:%M:%S}. "
                    + (conn.last_refresh_error or "")
                ).strip(),
            )
        if time.monotonic() > deadline:
            raise BlingUnavailable(
                status=None,
                error_type="token_refresh_timeout",
                message="A renovação do token do Bling por outro processo não terminou a tempo.",
            )
        time.sleep(_POLL_SECONDS)


def _refresh_holding_lease(*, conn: BlingConnection, owner: str, reason: str) -> AccessToken:
    refresh_cipher = conn.refresh_token_encrypted
    refresh_token = connection_refresh_token(conn)
    # Observers (the app's audit) record the intent before the call, the outcome after; an
    # intent that cannot be recorded stops the refresh before Bling is asked (strict).
    started = TokenRefreshStarted(reason=reason, expires_at_before=conn.expires_at)
    observers_notify(started, strict=True)
    try:
        if not refresh_token:
            raise BlingNotConnected(
                status=None, error_type="no_refresh_token", message="Nenhum token de renovação."
            )
        bundle = token_request(grant_type="refresh_token", refresh_token=refresh_token)
    except BlingError as exc:
        return _refresh_failed(
            conn=conn, owner=owner, started=started, exc=exc, refresh_cipher=refresh_cipher
        )
    # Persist (with the rotated refresh token) before the new access token is used anywhere.
    connection_tokens_store(connection=conn, bundle=bundle, refreshed=True)
    observers_notify(
        TokenRefreshFinished(started=started, expires_at=bundle.expires_at, scope=bundle.scope)
    )
    logger.info("bling token refreshed (%s), expires at %s", reason, bundle.expires_at)
    return _snapshot(conn)


def _refresh_failed(
    *,
    conn: BlingConnection,
    owner: str,
    started: TokenRefreshStarted,
    exc: BlingError,
    refresh_cipher: str,
) -> AccessToken:
    text = str(exc)
    observers_notify(TokenRefreshFailed(started=started, error=text))
    status = exc.status
    ip_block = status == 403 and exc.error_type.upper() == "FORBIDDEN"
    refused = isinstance(exc, BlingNotConnected) or (
        status is not None and 400 <= status < 500 and status != 429 and not ip_block
    )
    if refused:
        message = (
            f"O Bling recusou a renovação do token ({exc.error_type or status}: "
            f"{exc.description or exc.message}). Conecte novamente a conta no admin."
        )
        if connection_mark_needs_reconnect(
            connection=conn, error=message, refresh_ciphertext=refresh_cipher
        ):
            raise BlingNotConnected(
                status=status, error_type="needs_reconnect", message=message
            ) from exc
        # The refresh token we used had already been rotated by another process: its result
        # stands, ours is stale.
        conn.refresh_from_db()
        if conn.status == Status.CONNECTED:
            return _snapshot(conn)
        raise BlingNotConnected(status=status, error_type="needs_reconnect", message=message)
    cooldown = IP_BLOCK_COOLDOWN if ip_block else FAILURE_COOLDOWN
    connection_refresh_failed(connection=conn, error=text)
    connection_lease_release(connection=conn, owner=owner, hold_until=timezone.now() + cooldown)
    logger.warning("bling token refresh failed (%s); next try in %s", text, cooldown)
    if isinstance(exc, BlingUnavailable):
        raise exc
    raise BlingUnavailable(
        status=status,
        error_type=exc.error_type,
        message=exc.message,
        description=exc.description,
    ) from exc


def token_request(**form: str) -> TokenBundle:
    """One POST to the token endpoint (form body, Basic auth, `enable-jwt: 1`); never retried
    here. Raises the parsed BlingError on an error answer, BlingUnavailable on no answer."""
    if not settings.BLING_CLIENT_ID or not settings.BLING_CLIENT_SECRET:
        raise BlingNotConnected(
            status=None,
            error_type="not_configured",
            message="BLING_CLIENT_ID e BLING_CLIENT_SECRET não estão configurados.",
        )
    observers_notify(RequestSent(method="POST", path="oauth/token"))
    try:
        response = session_get().post(
            api_url("oauth/token"),
            data=form,
            auth=(settings.BLING_CLIENT_ID, settings.BLING_CLIENT_SECRET),
            headers={"Accept": "1.0", "enable-jwt": "1"},
            timeout=timeout_get(),
        )
    except requests.RequestException as exc:
        raise BlingUnavailable(
            status=None,
            error_type=type(exc).__name__,
            message="O Bling não respondeu ao pedido de token.",
        ) from exc
    logger.info("bling token endpoint %s: %s", form.get("grant_type"), response.status_code)
    if response.status_code != 200:
        raise error_from_response(response)
    return token_bundle_parse(response_json(response))


def token_bundle_parse(body: Any) -> TokenBundle:
    if not isinstance(body, dict) or not body.get("access_token") or not body.get("refresh_token"):
        raise BlingUnavailable(
            status=200, error_type="bad_token_response", message="Resposta de token inválida."
        )
    # Some clients report the lifetime as `token_validate` (UNCONFIRMED): accept both.
    try:
        expires_in = int(body.get("expires_in") or body.get("token_validate") or DEFAULT_EXPIRES_IN)
    except (TypeError, ValueError):
        expires_in = DEFAULT_EXPIRES_IN
    return TokenBundle(
        access_token=str(body["access_token"]),
        refresh_token=str(body["refresh_token"]),
        expires_at=timezone.now() + timedelta(seconds=expires_in),
        scope=str(body.get("scope") or ""),
    )
