"""The webhook signature: `X-Bling-Signature-256: sha256=<hex HMAC-SHA256(raw body, secret)>`.

Verified over the raw bytes as received (never re-serialised JSON), keyed with the app's
client secret (`BLING_CLIENT_SECRET`), compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings

SIGNATURE_HEADER = "X-Bling-Signature-256"
_PREFIX = "sha256="


def signature_compute(*, body: bytes, secret: str) -> str:
    """The header value Bling sends for `body`."""
    return _PREFIX + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def signature_is_valid(*, body: bytes, header_value: str | None, secret: str | None = None) -> bool:
    """True when `header_value` is the signature of `body`.

    False when the header is missing or malformed, and always False when no secret is
    configured: an installation without a secret must not accept unsigned events.
    """
    secret = settings.BLING_CLIENT_SECRET if secret is None else secret
    if not secret or not header_value:
        return False
    value = header_value.strip()
    if not value.lower().startswith(_PREFIX):
        return False
    expected = signature_compute(body=body, secret=secret)
    # The hex digest is compared case-insensitively; compare_digest needs equal types.
    given = (_PREFIX + value[len(_PREFIX) :].lower()).encode("ascii", "replace")
    return hmac.compare_digest(expected.encode("ascii"), given)
