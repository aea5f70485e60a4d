"""Asking for full sweeps (every product again, not only what changed since the last run).

Minimal stand-in: issue 12 builds the real sweep cursor in this module, with this function's
name and signature; the lead merges. Here the request is only recorded (Django's cache, so
the next sweeps in this process can see it, and a log line).
"""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.utils import timezone

logger = logging.getLogger(__name__)

CACHE_KEY = "blingsync:sweep_full_request"


def sweep_full_request(*, kinds: list[str] | None = None, reason: str) -> None:
    """placeholder until issue 12 lands; the lead merges"""
    cache.set(
        CACHE_KEY,
        {"kinds": kinds, "reason": reason, "requested_at": timezone.now().isoformat()},
        timeout=None,
    )
    logger.warning("full sweeps requested for %s: %s", ", ".join(kinds or ["all kinds"]), reason)
