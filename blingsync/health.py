"""Health report for operators and load balancers (`GET /health/`): no secrets in it."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.utils import timezone

from blingsync.models import BlingConnection, JobRun, RuntimeSettings


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True
    except Exception:
        return False


def _queue_backlog() -> int | None:
    """Tasks waiting in the django-q broker (ORM broker: rows in django_q_ormq)."""
    try:
        from django_q.brokers import get_broker

        return get_broker().queue_size()
    except Exception:
        return None


def _connection_state() -> dict[str, Any]:
    conn = BlingConnection.objects.order_by("pk").first()
    if conn is None:
        return {"state": BlingConnection.Status.NOT_CONNECTED, "token_expires_in": None}
    expires_in = None
    if conn.expires_at:
        expires_in = int((conn.expires_at - timezone.now()).total_seconds())
    return {"state": conn.status, "company": conn.company_name, "token_expires_in": expires_in}


def _last_runs() -> dict[str, Any]:
    runs: dict[str, Any] = {}
    for kind in JobRun.Kind.values:
        run = JobRun.objects.filter(kind=kind).exclude(status=JobRun.Status.QUEUED).first()
        if run:
            runs[kind] = {
                "status": run.status,
                "skip_reason": run.skip_reason or None,
                "finished_at": run.finished_at.isoformat() if run.finished_at else None,
                "changed": run.changed,
                "errors": run.errors,
            }
    return runs


def _events() -> dict[str, int]:
    from webhooks.selectors import (
        events_failed_count,
        events_pending_count,
        signature_failures_count,
    )

    return {
        "pending": events_pending_count(),
        "failed": events_failed_count(),
        "signature_failures_24h": signature_failures_count(hours=24),
    }


def _bling_calls() -> dict[str, Any]:
    from blingsync.bling.ratelimit import ratelimit_state

    return ratelimit_state()


def health_report() -> tuple[dict[str, Any], bool]:
    """The report and whether the installation is healthy.

    Unhealthy (503): the database does not answer, or Bling needs a reconnect (tokens
    refused: only staff can mend it). Degraded but 200: Bling is failing and the circuit
    breaker is open, or our calls are being throttled. A load balancer must keep this
    instance in rotation then, because the webhook receiver still works and stores what
    Bling sends; the report says so for operators and the dashboard.
    Not being connected yet is reported but is not a failure of a fresh install.
    """
    db_ok = _database_ok()
    report: dict[str, Any] = {"database": "ok" if db_ok else "error"}
    if not db_ok:
        return report, False
    conn = _connection_state()
    report.update(
        {
            "mode": RuntimeSettings.load().mode,
            "connection": conn,
            "queue_backlog": _queue_backlog(),
            "last_runs": _last_runs(),
            "events": _events(),
            "bling_calls": _bling_calls(),
        }
    )
    healthy = conn["state"] != BlingConnection.Status.NEEDS_RECONNECT
    if not healthy:
        report["status"] = "unhealthy"
    elif report["bling_calls"]["circuit"] == "open":
        report["status"] = "degraded: Bling unavailable (circuit breaker open)"
    elif report["bling_calls"]["throttled"]:
        report["status"] = "degraded: Bling calls throttled (429)"
    else:
        report["status"] = "ok"
    return report, healthy
