"""Health report for operators and load balancers (`GET /health/`): no secrets in it.

Anyone (a load balancer) gets the status, whether the database answers, the connection
state and the queue backlog. The company, token expiry, mode, last runs, webhook figures and
Bling call state are for staff and for callers sending `HEALTH_TOKEN` (`health_detail_allowed`).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare

from blingsync.bling.ratelimit import ratelimit_state
from blingsync.models import BlingConnection, JobRun, RuntimeSettings
from blingsync.operations.status import connection_status, event_counts, queue_backlog


def _connection_state() -> dict[str, Any]:
    status = connection_status()
    if status.connection is None:
        return {"state": status.state, "token_expires_in": None}
    expires_in = status.expires_in_seconds
    return {
        "state": status.state,
        "company": status.company_name,
        "token_expires_in": None if expires_in is None else int(expires_in),
    }


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


def _bling_calls() -> dict[str, Any]:

    return ratelimit_state()


HEALTH_TOKEN_HEADER = "X-Health-Token"
# What an anonymous caller sees of the report.
PUBLIC_FIELDS = ("status", "database", "queue_backlog")


def health_detail_allowed(request: HttpRequest) -> bool:
    """Staff (logged in) or a caller sending the configured HEALTH_TOKEN."""
    user = getattr(request, "user", None)
    if user is not None and user.is_active and user.is_staff:
        return True
    expected = settings.HEALTH_TOKEN
    sent = request.headers.get(HEALTH_TOKEN_HEADER, "")
    return bool(expected and sent and constant_time_compare(sent, expected))


def health_report_public(report: dict[str, Any]) -> dict[str, Any]:
    """The anonymous view of a report: status, database, connection state, queue backlog."""
    public = {key: report[key] for key in PUBLIC_FIELDS if key in report}
    if "connection" in report:
        public["connection"] = {"state": report["connection"]["state"]}
    return public


def health_report(*, detailed: bool = True) -> tuple[dict[str, Any], bool]:
    """The report (the anonymous view unless `detailed`) and whether the installation is
    healthy.

    Unhealthy (503): the database does not answer, or Bling needs a reconnect (tokens
    refused: only staff can mend it). Degraded but 200: Bling is failing and the circuit
    breaker is open, or our calls are being throttled. A load balancer must keep this
    instance in rotation then, because the webhook receiver still works and stores what
    Bling sends; the report says so for operators and the dashboard.
    Not being connected yet is reported but is not a failure of a fresh install.

    The anonymous report is polled by load balancers every few seconds: three queries
    (the connection, which also proves the database answers; the queue size; the Bling call
    state), the detailed figures only for the detailed report.
    """
    try:
        conn = _connection_state()
    except Exception:
        return {"database": "error"}, False
    report: dict[str, Any] = {
        "database": "ok",
        "connection": conn,
        "queue_backlog": queue_backlog(),
    }
    bling_calls = _bling_calls()
    healthy = conn["state"] != BlingConnection.Status.NEEDS_RECONNECT
    if not healthy:
        report["status"] = "unhealthy"
    elif bling_calls["circuit"] == "open":
        report["status"] = "degraded: Bling unavailable (circuit breaker open)"
    elif bling_calls["throttled"]:
        report["status"] = "degraded: Bling calls throttled (429)"
    else:
        report["status"] = "ok"
    if not detailed:
        return health_report_public(report), healthy
    report.update(
        {
            "mode": RuntimeSettings.load().mode,
            "last_runs": _last_runs(),
            "events": asdict(event_counts()),
            "bling_calls": bling_calls,
        }
    )
    return report, healthy
