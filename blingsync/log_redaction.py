"""Masking credentials in log lines, on the formatted text: message and traceback alike.

Code never logs tokens on purpose; this is the safety net for the day someone logs a request,
a repr'd dict or an exception that carried one. It runs in the formatter (`RedactingFormatter`),
after %-formatting and after the traceback is appended, so nothing reaches the stream
unmasked: `key=value` (form bodies, query strings), `"key": "value"` (JSON), `'key': 'value'`
(a repr'd dict), `Bearer …`/`Basic …` headers, `code=` in URLs (the OAuth callback carries
the authorization code) and bare JWTs.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"

# Names of fields that hold a credential (matched case-insensitively, also inside a longer
# name such as "refresh_token_encrypted" or "X-Health-Token").
_KEY = (
    r"[\w-]*(?:access_token|refresh_token|id_token|client_secret|secret|password|passwd"
    r"|api_key|apikey|authorization|token|cookie|sessionid)[\w-]*"
)

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # Authorization headers: "Bearer <token>" / "Basic <b64>".
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), rf"\1 {REDACTED}"),
    # "key": "value" (JSON) and 'key': 'value' (a repr'd dict), either quote on either side.
    (
        re.compile(rf"""(?i)(["'])({_KEY})\1(\s*:\s*)(["'])(?:\\.|(?!\4).)*\4"""),
        rf"\1\2\1\3\4{REDACTED}\4",
    ),
    # key=value (form bodies, query strings, "key=value" in messages).
    (re.compile(rf"""(?i)\b({_KEY})=(?!\[redacted\])[^\s&"',;)}}\]]+"""), rf"\1={REDACTED}"),
    # The OAuth authorization code in a URL.
    (re.compile(r"""(?i)([?&]code=)[^\s&"'#]+"""), rf"\1{REDACTED}"),
    # Bare JWTs (three base64url parts).
    (re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"), "[jwt]"),
]


def redact(text: str) -> str:
    """Return `text` with credentials masked."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFormatter(logging.Formatter):
    """A Formatter whose whole output (message, traceback, stack) is passed through `redact`."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class RedactSecretsFilter(logging.Filter):
    """Masks the record's message (after %-formatting), for handlers with a formatter of their
    own; tracebacks are only masked by `RedactingFormatter`."""

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
