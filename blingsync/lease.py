"""Claim leases: a worker's hold on an event or a stock evaluation that it keeps renewing.

A claim is marked by `claimed_at` (the owner's token) and `recover_at` (the end of the
lease). While the work runs, a daemon thread pushes `recover_at` forward every
`RENEW_EVERY`, so a worker that waits a long time on Bling (rate limit, retries, a slow
answer) keeps its claim; a worker that was killed stops renewing, and the next recovery tick
after `LEASE` takes the row back. The renewal is conditional on the token: a claim that was
taken over is never extended again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, ClassVar, Protocol

from django.db import connections, models
from django.utils import timezone

logger = logging.getLogger(__name__)

# How long a claim holds without renewal: recovery after a crash waits this plus one tick.
LEASE = timedelta(seconds=60)
# How often a live worker renews (well inside LEASE, so one slow renewal loses nothing).
RENEW_EVERY = timedelta(seconds=15)


class _Leased(Protocol):
    """A model with a claim: its rows are reached through Django's default `objects` manager
    (a bare `type[Model]` does not promise one)."""

    objects: ClassVar[models.Manager[Any]]


def lease_end(*, now: datetime | None = None) -> datetime:
    return (now or timezone.now()) + LEASE


def lease_renew(*, model: type[_Leased], pk: int, token: datetime) -> bool:
    """Extend the lease of a claim still held with `token`; False when it was lost."""
    return bool(model.objects.filter(pk=pk, claimed_at=token).update(recover_at=lease_end()))


@contextmanager
def lease_kept(*, model: type[_Leased], pk: int, token: datetime | None) -> Iterator[None]:
    """Renew the claim on `model` row `pk` (held with `token`) while the block runs."""
    if token is None:
        yield
        return
    stop = threading.Event()

    def renew() -> None:
        used_db = False
        try:
            while not stop.wait(RENEW_EVERY.total_seconds()):
                used_db = True
                try:
                    if not lease_renew(model=model, pk=pk, token=token):
                        logger.warning("claim on %s %s was taken over", model.__name__, pk)
                        return
                except Exception as exc:  # noqa: BLE001 - the next renewal may work
                    logger.warning(
                        "could not renew the claim on %s %s: %s",
                        model.__name__,
                        pk,
                        type(exc).__name__,
                    )
        finally:
            if used_db:
                connections.close_all()  # this thread's connections only

    thread = threading.Thread(target=renew, name=f"lease-{model.__name__}-{pk}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)
