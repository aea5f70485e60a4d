"""The account's deposits, for the deposit setting (RuntimeSettings.stock_deposit_id).

Read from Bling (`GET /depositos`) when staff open the settings page and kept for a few
minutes (Django's cache, keyed by the connected company), so the page costs one call now and
then, not one per view.
"""

from __future__ import annotations

import logging

from django.core.cache import cache

from blingsync.bling import catalog
from blingsync.bling.errors import BlingError
from blingsync.bling.types import Deposit
from blingsync.connection import connection_get

logger = logging.getLogger(__name__)

DEPOSITS_TTL_SECONDS = 600


def _cache_key() -> str:
    conn = connection_get()
    return f"blingsync:deposits:{conn.company_id if conn else ''}"


def deposits_available() -> list[Deposit] | None:
    """The account's active deposits (cached); None when Bling cannot be asked now (not
    connected, unavailable): the caller says so and keeps the current setting."""
    key = _cache_key()
    deposits = cache.get(key)
    if deposits is not None:
        return deposits
    try:
        deposits = catalog.deposits_list()
    except BlingError as exc:
        logger.warning("could not list Bling deposits: %s", exc.error_type or exc.status)
        return None
    cache.set(key, deposits, DEPOSITS_TTL_SECONDS)
    return deposits


def deposits_cache_clear() -> None:
    cache.delete(_cache_key())
