"""Sending one API request to Bling, with everything around it.

`api_request` = token (refreshed ahead of expiry) -> global rate-limit slot -> HTTP with
timeouts, `Authorization: Bearer`, `enable-jwt: 1` -> `observers.RequestSent` (the job
runner counts it on the current JobRun) -> the answer, or a `blingsync.bling.errors` exception:
- 401: refresh once (one process for all, see tokens.py), then retry; a second 401 raises
  BlingAuthError;
- 429 `period: second` (another integration on the account uses part of the limit): the
  shared limiter halves every process's effective rate and pauses them a second (see
  ratelimit.py), the 429 is reported (log WARNING, `observers.Throttled`: the job runner notes
  `bling_429` on the current JobRun), then
  retry (bounded); `period: day`: BlingRateLimited(period="day") at once, and every process
  stops until tomorrow;
- 5xx, timeouts, connection errors: retried with exponential backoff and full jitter
  (BLING_RETRY_ATTEMPTS, BLING_RETRY_BASE_SECONDS, BLING_RETRY_MAX_SECONDS), then
  BlingUnavailable; they feed the shared circuit breaker (BlingCircuitOpen while open);
- any other 4xx raises at once (400 BlingValidationError with field errors, 403, 404).
A POST is retried after a 5xx or a read timeout only when the caller says it is idempotent
(a stock posting must never be sent twice); a connection that was never made is always retried.
Logs name the method, path and status, never tokens or bodies.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterator, Mapping
from typing import Any

import requests
import urllib3
from django.conf import settings

from blingsync.bling import ratelimit
from blingsync.bling.errors import (
    BlingAuthError,
    BlingError,
    BlingRateLimited,
    BlingUnavailable,
)
from blingsync.bling.http import (
    api_url,
    error_from_response,
    response_json,
    session_get,
    timeout_get,
)
from blingsync.bling.observers import (
    RequestSent,
    ResponseReceived,
    Throttled,
    observers_notify,
)
from blingsync.bling.tokens import AccessToken, access_token_get, token_renew

logger = logging.getLogger(__name__)

Params = Mapping[str, Any] | list[tuple[str, Any]] | None

# 429 "per second" answers retried before giving up (each after a shared pause and a lower
# effective rate).
RATE_LIMIT_RETRIES = 5


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def backoff_seconds(attempt: int) -> float:
    """Full-jitter exponential backoff for retry number `attempt` (1, 2, ...)."""
    base = _setting("BLING_RETRY_BASE_SECONDS", 0.5)
    cap = _setting("BLING_RETRY_MAX_SECONDS", 8.0)
    ceiling = min(cap, base * (2 ** (attempt - 1)))
    return random.uniform(ceiling / 2, ceiling)


def _never_sent(exc: requests.ConnectionError) -> bool:
    """Whether the request surely never reached Bling (safe to retry even a POST)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


def _send(
    method: str, path: str, token: str, params: Params, json_body: Any
) -> tuple[requests.Response, ratelimit.Reservation]:
    """Wait for a rate-limit slot and send; returns the answer and the slot (with the
    failures in a row counted before it). The request is fully prepared before the wait, so
    it leaves the moment the slot comes (the limiter's precision depends on it)."""
    session = session_get()
    prepared = session.prepare_request(
        requests.Request(
            method,
            api_url(path),
            params=params,
            json=json_body,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "enable-jwt": "1",
            },
        )
    )
    send_kwargs = session.merge_environment_settings(prepared.url, {}, None, None, None)
    waiting = time.monotonic()
    slot = ratelimit.ratelimit_slot_acquire()
    started = time.monotonic()
    observers_notify(RequestSent(method=method, path=path, waited=started - waiting))
    response = session.send(prepared, timeout=timeout_get(), **send_kwargs)
    seconds = time.monotonic() - started
    observers_notify(
        ResponseReceived(method=method, path=path, status=response.status_code, seconds=seconds)
    )
    logger.debug("bling %s %s -> %s in %.0f ms", method, path, response.status_code, seconds * 1000)
    return response, slot


def api_request(
    method: str,
    path: str,
    *,
    params: Params = None,
    json_body: Any = None,
    idempotent: bool | None = None,
    access_token: str | None = None,
) -> Any:
    """Send one request (path relative to BLING_API_BASE_URL, e.g. "/produtos") and return
    the decoded JSON body (None for 204). `idempotent` defaults to True except for POST.

    `access_token` sends a token that is not (yet) the stored one, e.g. to read the company
    of a new authorization before storing it; it is never refreshed here (a 401 fails)."""
    method = method.upper()
    if idempotent is None:
        idempotent = method != "POST"
    max_retries = int(_setting("BLING_RETRY_ATTEMPTS", 4))
    if access_token:
        token = AccessToken(connection_id=0, token=access_token, ciphertext="", expires_at=None)
    else:
        token = access_token_get()
    refreshed = bool(access_token)
    failures = 0
    rate_limited = 0
    while True:
        failures_so_far = 0
        error: BlingError
        try:
            response, slot = _send(method, path, token.token, params, json_body)
            failures_so_far = slot.failures
        except requests.ConnectionError as exc:
            error = BlingUnavailable(
                status=None,
                error_type=type(exc).__name__,
                message="Sem resposta do Bling (erro de conexão).",
            )
            retry_allowed = idempotent or _never_sent(exc)
        except requests.Timeout as exc:
            error = BlingUnavailable(
                status=None,
                error_type=type(exc).__name__,
                message="Sem resposta do Bling (tempo esgotado).",
            )
            retry_allowed = idempotent
        else:
            status = response.status_code
            if status < 400:
                if failures_so_far:
                    ratelimit.circuit_success()
                return None if status == 204 else response_json(response)
            error = error_from_response(response)
            if status == 401:
                if refreshed:
                    raise BlingAuthError(
                        status=401,
                        error_type=error.error_type,
                        message=error.message,
                        description=error.description,
                    )
                logger.info("bling %s %s: 401, refreshing the token once", method, path)
                token = token_renew(stale=token, reason="401")
                refreshed = True
                continue
            if status == 429:
                assert isinstance(error, BlingRateLimited)
                if error.period == "day":
                    ratelimit.ratelimit_day_exhausted()
                    raise error
                rate_limited += 1
                throttle = ratelimit.ratelimit_throttled(reserved_us=slot.reserved_us)
                observers_notify(
                    Throttled(
                        method=method,
                        path=path,
                        rate_before=throttle.rate_before,
                        rate_after=throttle.rate_after,
                    )
                )
                logger.warning(
                    "bling %s %s: 429 per second (%s in the last hour); effective rate "
                    "%.2f -> %.2f/s, every process pauses %.1f s%s",
                    method,
                    path,
                    throttle.last_hour,
                    throttle.rate_before,
                    throttle.rate_after,
                    throttle.pause_seconds,
                    "" if rate_limited <= RATE_LIMIT_RETRIES else ", giving up",
                )
                if rate_limited > RATE_LIMIT_RETRIES:
                    raise error
                continue
            if status < 500:
                if failures_so_far:
                    ratelimit.circuit_success()
                raise error
            retry_allowed = idempotent
        # A failure of Bling or of the network.
        circuit_open = ratelimit.circuit_failure()
        failures += 1
        if not retry_allowed or failures > max_retries or circuit_open:
            logger.warning("bling %s %s failed, giving up: %s", method, path, error)
            raise error
        pause = backoff_seconds(failures)
        logger.warning(
            "bling %s %s failed (%s), retry %s/%s in %.2f s",
            method,
            path,
            error.status or error.error_type,
            failures,
            max_retries,
            pause,
        )
        time.sleep(pause)


def api_pages(
    path: str,
    *,
    params: Params = None,
    page_size: int = 100,
    first_page: int = 1,
) -> Iterator[list[dict[str, Any]]]:
    """Pages of `data` items of a paginated list (`pagina`, `limite`), until a page comes
    back shorter than `page_size` (Bling sends no total)."""
    base = list(params.items()) if isinstance(params, Mapping) else list(params or [])
    page = first_page
    while True:
        body = api_request("GET", path, params=[*base, ("pagina", page), ("limite", page_size)])
        items = body.get("data") if isinstance(body, dict) else None
        items = items if isinstance(items, list) else []
        yield items
        if len(items) < page_size:
            return
        page += 1


def api_items(
    path: str, *, params: Params = None, page_size: int = 100
) -> Iterator[dict[str, Any]]:
    """Every `data` item of a paginated list, page after page."""
    for items in api_pages(path, params=params, page_size=page_size):
        yield from items
