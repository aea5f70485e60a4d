"""How durations and token expiries are written for staff (admin pages and the dashboard):
plain text, no queries. Stored JSON is shown as labelled tables (blingsync.run_details)."""

from __future__ import annotations

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
