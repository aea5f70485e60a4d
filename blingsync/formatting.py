"""How durations, token expiries and stored JSON are written for staff (admin pages and the
dashboard): plain text or safe HTML, no queries."""

from __future__ import annotations

import json
from typing import Any

from django.utils.html import format_html
from django.utils.translation import gettext


def duration_format(seconds: float | None) -> str:
    """A short human duration: "42 s", "3 min 5 s", "1 h 2 min"."""
    if seconds is None:
        return "—"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def expires_in_format(seconds: float | None) -> str:
    """Time left on a token: "—" when there is no expiry, "expirado" once past it."""
    if seconds is None:
        return "—"
    if seconds <= 0:
        return gettext("expirado")
    return duration_format(seconds)


def json_pretty(value: Any) -> str:
    """Stored JSON indented in a <pre> block (keys sorted, accents kept); "—" when empty."""
    if value in (None, "", {}, []):
        return "—"
    return format_html(
        '<pre style="white-space: pre-wrap; margin: 0">{}</pre>',
        json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True),
    )
