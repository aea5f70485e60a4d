"""The one-line hooks other modules call where a fact happens (token refused, event failed
for good, write refused, bad signature, event of another company).

They never raise and never send: a quick look at the throttle (already alerted within the
hour: nothing to do), then the kind's check is queued after the caller's transaction
commits, so an alert costs the job that raised it nothing and a rolled-back fact raises
nothing. The periodic check (`alerts_check_all`) is the safety net for lost tasks.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from blingsync.alerts.models import AlertThrottle
from blingsync.models import AuditLog
from blingsync.task_queue import task_queue_now

logger = logging.getLogger(__name__)

# One alert of a kind an hour at most.
THROTTLE = timedelta(hours=1)
# Changes blingsync writes to Bling (a failed one is a write that did not happen).
WRITE_ACTIONS = (
    AuditLog.Action.CODE_ASSIGNED,
    AuditLog.Action.PRODUCT_DEACTIVATED,
    AuditLog.Action.PRODUCT_REACTIVATED,
)

CHECK_TASK = "blingsync.operations.alerts.tasks.alert_check_task"


def alert_check_soon(*, kind: str) -> None:
    """Check (and maybe send) alert `kind` right after the current transaction commits."""
    try:
        if throttle_sent_recently(kind=kind):
            return
        transaction.on_commit(lambda: _enqueue_check(kind))
    except Exception:
        logger.exception("could not queue the %s alert check", kind)


def throttle_sent_recently(*, kind: str, now: datetime | None = None) -> bool:
    """Whether alert `kind` was sent within the hour (then there is nothing to check)."""
    now = now or timezone.now()
    return AlertThrottle.objects.filter(kind=kind, last_sent_at__gt=now - THROTTLE).exists()


def _enqueue_check(kind: str) -> None:
    try:
        task_queue_now(func=CHECK_TASK, arg=kind, task_name=f"alert-check-{kind}")
    except Exception:
        logger.exception("could not queue the %s alert check; the periodic check covers it", kind)


def alert_needs_reconnect() -> None:
    """The Bling connection was just marked "needs reconnect"."""
    alert_check_soon(kind="needs_reconnect")


def alert_signature_failure() -> None:
    """A webhook was refused for a missing or wrong signature."""
    alert_check_soon(kind="signature_failures")


def alert_other_company_event() -> None:
    """A signed event of another company than the connected one arrived (issue 13's inbox
    marks it `ignore_reason="other_company"`)."""
    alert_check_soon(kind="other_company")


def alert_event_failed() -> None:
    """A webhook event failed with no retry left."""
    alert_check_soon(kind="events_failed")


def alert_audit_failed(*, action: str, dry_run: bool) -> None:
    """An audited change was completed as failed: an alert when it was a write to Bling."""
    if not dry_run and action in WRITE_ACTIONS:
        alert_check_soon(kind="writes_failed")
