"""A logging filter that masks anything that looks like a credential before a line is written.

Code never logs tokens on purpose; this is the safety net for the day someone logs a request
or an exception that carried one (Bearer headers, OAuth form bodies, JWTs).
"""

from __future__ import annotations

import logging
import re

_PATTERNS = [
    # Authorization headers: "Bearer <token>" / "Basic <b64>".
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 [redacted]"),
    # key=value or "key": "value" for OAuth fields and secrets.
    (
        re.compile(
            r"(?i)(access_token|refresh_token|client_secret|secret|password)"
            r"(\"?\s*[:=]\s*\"?)[^\s\"&,}]{6,}"
        ),
        r"\1\2[redacted]",
    ),
    # Bare JWTs (three base64url parts).
    (re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"), "[jwt]"),
]


def redact(text: str) -> str:
    """Return `text` with credentials masked."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecretsFilter(logging.Filter):
    """Rewrites the record's message (after %-formatting) with credentials masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the line
            return True
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg = cleaned
            record.args = None
        return True
