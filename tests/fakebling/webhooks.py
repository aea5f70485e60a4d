"""Webhook envelope, signature and delivery (bling-v3.md section 8).

Envelope ``{eventId, date, version: "v1", event, companyId, data}`` serialised as compact
UTF-8 JSON; header ``X-Bling-Signature-256: sha256=<hex HMAC-SHA256(client_secret, raw body)>``;
POST with ``Content-Type: application/json`` (method/content type UNCONFIRMED but universal);
Bling counts any 2xx within 5 s as delivered. Retries and auto-disable are not modelled:
a test that wants a redelivery calls ``send_webhook`` again with the same ``event_id``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
import uuid
from typing import Any

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Bling-Signature-256"


def body(
    company_id: str, event: str, data: Any, event_id: str | None = None, date: str | None = None
) -> bytes:
    envelope = {
        "eventId": event_id or str(uuid.uuid4()),
        "date": date or dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "version": "v1",
        "event": event,
        "companyId": company_id,
        "data": data,
    }
    # Compact and non-ASCII kept as UTF-8: receivers must verify the raw bytes, not re-dump.
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign(raw: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), raw, hashlib.sha256).hexdigest()


def post(url: str, raw: bytes, signature: str | None, timeout: float) -> tuple[int, bytes]:
    """POST one delivery; returns (status, response body). Status 0 = no HTTP answer."""
    headers = {"Content-Type": "application/json", "User-Agent": "fakebling-webhooks"}
    if signature is not None:
        headers[SIGNATURE_HEADER] = signature
    req = urllib.request.Request(url, data=raw, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - test URLs
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, OSError) as exc:
        log.info("fake bling webhook to %s failed: %s", url, exc)
        return 0, str(exc).encode()
