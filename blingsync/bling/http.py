"""HTTP plumbing shared by the API client and the token calls: one `requests.Session` per
process (re-created after a fork), the common headers, and Bling's error envelope parsed into
the exceptions of `blingsync.bling.errors`."""

from __future__ import annotations

import os
import threading
from typing import Any

import requests
from django.conf import settings

from blingsync.bling.errors import (
    BlingAuthError,
    BlingError,
    BlingForbidden,
    BlingNotFound,
    BlingRateLimited,
    BlingUnavailable,
    BlingValidationError,
    FieldError,
)

USER_AGENT = "blingsync/1.0"

_lock = threading.Lock()
_session: requests.Session | None = None
_session_pid: int | None = None


def session_get() -> requests.Session:
    """This process's session (keep-alive connections to Bling are reused)."""
    global _session, _session_pid
    pid = os.getpid()
    if _session is None or _session_pid != pid:
        with _lock:
            if _session is None or _session_pid != pid:
                session = requests.Session()
                session.headers.update({"User-Agent": USER_AGENT, "enable-jwt": "1"})
                # A pool larger than the default 10 for threaded callers.
                adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=32)
                session.mount("https://", adapter)
                session.mount("http://", adapter)
                _session, _session_pid = session, pid
    return _session


def timeout_get() -> tuple[float, float]:
    """(connect, read) timeouts in seconds."""
    read = float(getattr(settings, "BLING_TIMEOUT_SECONDS", 20.0))
    return (min(5.0, read), read)


def api_url(path: str) -> str:
    return settings.BLING_API_BASE_URL.rstrip("/") + "/" + path.lstrip("/")


def response_json(response: requests.Response) -> Any:
    """The decoded body, or None when it is empty or not JSON."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _fields(raw: Any) -> list[FieldError]:
    out: list[FieldError] = []
    if not isinstance(raw, list):
        return out
    for item in raw:
        if not isinstance(item, dict):
            continue
        element = str(item.get("element") or item.get("namespace") or "")
        out.append(
            FieldError(element=element, message=str(item.get("msg") or ""), code=item.get("code"))
        )
        for sub in item.get("collection") or []:
            if isinstance(sub, dict):
                out.append(
                    FieldError(
                        element=f"{element}[{sub.get('index')}].{sub.get('element') or ''}",
                        message=str(sub.get("msg") or ""),
                        code=sub.get("code"),
                    )
                )
    return out


def error_from_body(status: int | None, body: Any) -> BlingError:
    """The exception for an error answer (envelope `{"error": {type, message, description,
    fields}}`; anything else becomes a generic error with the HTTP status)."""
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        err = {}
    kwargs: dict[str, Any] = {
        "status": status,
        "error_type": str(err.get("type") or ""),
        "message": str(err.get("message") or ""),
        "description": str(err.get("description") or ""),
        "fields": _fields(err.get("fields")),
    }
    if status == 429:
        return BlingRateLimited(**kwargs, period=str(err.get("period") or "second"))
    if status == 400 or status == 422:
        return BlingValidationError(**kwargs)
    if status == 401:
        return BlingAuthError(**kwargs)
    if status == 403:
        return BlingForbidden(**kwargs)
    if status == 404:
        return BlingNotFound(**kwargs)
    if status is not None and status >= 500:
        return BlingUnavailable(**kwargs)
    return BlingError(**kwargs)


def error_from_response(response: requests.Response) -> BlingError:
    return error_from_body(response.status_code, response_json(response))
