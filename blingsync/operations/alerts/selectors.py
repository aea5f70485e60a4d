"""The facts each alert reports, read from the database (selectors: no writes, no e-mail).

Every `*_fact` returns an `AlertFact` when its alert is due, else None. Count-based facts
take `since` (the kind's last alert): what was reported once is not
reported again. `fingerprint` names a lasting situation (one disconnection, one day's
budget, one set of overdue kinds) so it is reported once, not every hour while it lasts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Q

from blingsync.alerts.models import AlertKind
from blingsync.alerts.triggers import WRITE_ACTIONS
from blingsync.bling.ratelimit import BLING_TZ, ratelimit_state
from blingsync.models import AuditLog, BlingConnection
from blingsync.operations.dashboard import dashboard_kinds
from webhooks.models import WebhookEvent
from webhooks.selectors import signature_failures_count

SIGNATURE_FAILURES_THRESHOLD = 10
CALL_BUDGET_SHARE = 0.8
# The value issue 13 gives `WebhookEvent.ignore_reason` for an event of another company.
OTHER_COMPANY_REASON = "other_company"


@dataclass(frozen=True)
class AlertFact:
    kind: str
    facts: dict[str, Any] = field(default_factory=dict)
    fingerprint: str | None = None


def failed_writes_q() -> Q:
    """Audit entries of writes to Bling that failed (not simulations)."""
    return Q(action__in=WRITE_ACTIONS, outcome=AuditLog.Outcome.FAILED, dry_run=False)


def needs_reconnect_fact() -> AlertFact | None:
    conn = BlingConnection.objects.order_by("pk").first()
    if conn is None or conn.status != BlingConnection.Status.NEEDS_RECONNECT:
        return None
    stamp = conn.last_refresh_at.isoformat() if conn.last_refresh_at else str(conn.updated_at)
    return AlertFact(
        kind=AlertKind.NEEDS_RECONNECT,
        facts={"company": conn.company_name or conn.company_id, "error": conn.last_refresh_error},
        fingerprint=f"{conn.pk}:{stamp}",
    )


def signature_failures_fact() -> AlertFact | None:

    count = signature_failures_count(hours=1)
    if count < SIGNATURE_FAILURES_THRESHOLD:
        return None
    return AlertFact(kind=AlertKind.SIGNATURE_FAILURES, facts={"count": count})


def other_company_events_count(*, since: datetime) -> int:
    """Signed events of a company other than the connected one received since `since` (the
    inbox's own verdict, `ignore_reason="other_company"`)."""
    return WebhookEvent.objects.filter(
        received_at__gte=since, signature_valid=True, ignore_reason=OTHER_COMPANY_REASON
    ).count()


def other_company_fact(*, since: datetime) -> AlertFact | None:
    count = other_company_events_count(since=since)
    if not count:
        return None
    return AlertFact(kind=AlertKind.OTHER_COMPANY, facts={"count": count})


def schedule_overdue_fact() -> AlertFact | None:
    """Scheduled kinds with no success in three of their intervals, as the dashboard flags
    them (its `dashboard_kinds` decides; nothing is recomputed here)."""
    overdue = [k for k in dashboard_kinds() if k.overdue]
    if not overdue:
        return None
    return AlertFact(
        kind=AlertKind.SCHEDULE_OVERDUE,
        facts={
            "kinds": [
                {
                    "kind": k.kind,
                    "last_success": k.last_success.finished_at.isoformat()
                    if k.last_success and k.last_success.finished_at
                    else None,
                    "last_error": (k.last_run.error if k.last_run else "")[:300],
                }
                for k in overdue
            ]
        },
        # Reported again only when the set changes or one of them succeeded meanwhile.
        fingerprint=",".join(
            f"{k.kind}:{k.last_success.pk if k.last_success else 0}" for k in overdue
        ),
    )


def events_failed_fact(*, since: datetime) -> AlertFact | None:
    """Webhook events whose last attempt (since `since`) failed with no retry left."""
    count = WebhookEvent.objects.filter(
        status=WebhookEvent.Status.FAILED,
        next_attempt_at__isnull=True,
        claimed_at__gte=since,
    ).count()
    if not count:
        return None
    return AlertFact(kind=AlertKind.EVENTS_FAILED, facts={"count": count})


def writes_failed_fact(*, since: datetime) -> AlertFact | None:
    failed = AuditLog.objects.filter(failed_writes_q(), completed_at__gte=since)
    count = failed.count()
    if not count:
        return None
    last = failed.order_by("-completed_at", "-pk").first()
    return AlertFact(
        kind=AlertKind.WRITES_FAILED,
        facts={"count": count, "last_error": (last.error if last else "")[:300]},
    )


def call_budget_fact() -> AlertFact | None:

    state = ratelimit_state()
    limit = state["day_limit"] or 0
    calls = state["day_calls"] or 0
    if limit <= 0 or calls < CALL_BUDGET_SHARE * limit:
        return None
    day = datetime.now(BLING_TZ).date().isoformat()
    return AlertFact(
        kind=AlertKind.CALL_BUDGET,
        facts={"calls": calls, "limit": limit, "percent": round(100 * calls / limit)},
        fingerprint=day,  # once per Bling day
    )
