"""First start without a Bling connection (SPEC 5.7, 5.9): a scheduled run of a kind that needs
Bling is not even recorded while the account was never connected. The dashboard says
"conecte o Bling" once instead of one skipped run per schedule per interval.

A connection that needs reconnecting still records its skipped runs: that is a problem to
see, not a step not taken yet. Runs asked for by staff or commands are always recorded.
"""

from __future__ import annotations

import logging

from blingsync.connection import Status, connection_get

logger = logging.getLogger(__name__)

# Kinds that do their work without calling Bling (event recovery and retention).
KINDS_WITHOUT_BLING = frozenset({"events"})


def bling_never_connected() -> bool:
    """No connection yet, or one never completed (not a lost one: that needs reconnecting)."""
    conn = connection_get()
    return conn is None or conn.status == Status.NOT_CONNECTED


def scheduled_run_wanted(*, kind: str) -> bool:
    """Whether the schedule of `kind` should record and run a job now."""
    if kind in KINDS_WITHOUT_BLING:
        return True
    if bling_never_connected():
        logger.debug("scheduled %s not run: Bling not connected yet", kind)
        return False
    return True
