"""At most one signature-failure alert check queued a minute, whatever the number of
refusals stored and of processes storing them.

Each stored refusal used to queue an alert-check task: a flood from many networks (each
keeping a few rows a minute, see `refusal_fold`) then queued hundreds of tasks a minute.
Now a refusal queues the check only if it wins this minute's claim: a conditional UPDATE
of one `InboxClaim` row, so every web process agrees. The periodic alert check
(`alerts_check_all`) remains the net for a refusal that lost the claim."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q

from webhooks.models import InboxClaim

logger = logging.getLogger(__name__)

SIGNATURE_ALERT_CLAIM = "signature_alert_check"
ALERT_CHECK_EVERY = timedelta(minutes=1)


def refusal_alert_claim(*, now: datetime) -> bool:
    """True for the first refusal of the minute (it queues the alert check); False after,
    and when the database cannot say (the refusal's answer never depends on it)."""
    try:
        return _claim(now)
    except DatabaseError as exc:
        logger.warning("could not pace the signature alert check: %s", type(exc).__name__)
        return False


def _claim(now: datetime) -> bool:
    due = Q(claimed_at__isnull=True) | Q(claimed_at__lte=now - ALERT_CHECK_EVERY)
    if InboxClaim.objects.filter(due, name=SIGNATURE_ALERT_CLAIM).update(claimed_at=now):
        return True
    if InboxClaim.objects.filter(name=SIGNATURE_ALERT_CLAIM).exists():
        return False
    try:
        with transaction.atomic():
            InboxClaim.objects.create(name=SIGNATURE_ALERT_CLAIM, claimed_at=now)
    except IntegrityError:
        return False  # another process created it first: its refusal queued the check
    return True
