"""The daily summary: what happened yesterday (local day), read from the audit log, the inbox
and the job runs (selectors), and when it is due."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from blingsync.alerts.models import AlertSettings
from blingsync.models import AuditLog, JobRun, RuntimeSettings
from blingsync.operations.alerts.selectors import failed_writes_q
from products.models import ProductStockState
from webhooks.models import WebhookEvent

Action = AuditLog.Action
# Sold-out products kept active because nothing shows they sold (products/soldout_rules.py).
NO_EVIDENCE_RULES = ("no_sales", "cancelled_only", "manual_balance")
LISTED = 50  # products named per section; the count covers them all


def summary_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def _names(product_ids: list[int]) -> dict[int, str]:
    """Product names known to blingsync (the stock state mirror), by Bling id."""
    rows = ProductStockState.objects.filter(bling_product_id__in=product_ids)
    return dict(rows.values_list("bling_product_id", "name"))


def _entry_name(entry: AuditLog, known: dict[int, str]) -> str:
    # The audit's own copy of the name when it has one (issue 16), else the mirror's.
    for source in (getattr(entry, "product_name", ""), entry.after, entry.before):
        if isinstance(source, str) and source:
            return source
        if isinstance(source, dict) and source.get("nome"):
            return str(source["nome"])
    return known.get(entry.bling_product_id or 0, "")


def _products(entries: list[AuditLog]) -> list[dict[str, Any]]:
    known = _names([e.bling_product_id for e in entries if e.bling_product_id])
    return [
        {"id": e.bling_product_id, "code": e.code, "name": _entry_name(e, known)}
        for e in entries[:LISTED]
    ]


def daily_summary_facts(*, day: date) -> dict[str, Any]:
    """Yesterday in numbers (JSON): codes assigned, products deactivated and reactivated
    (named), kept for lack of sales evidence, failures, and the mode now."""
    start, end = summary_day_bounds(day)
    audit = AuditLog.objects.filter(created_at__gte=start, created_at__lt=end)
    done = audit.filter(outcome=AuditLog.Outcome.OK, dry_run=False)
    would = audit.filter(outcome=AuditLog.Outcome.WOULD_DO)
    deactivated = list(done.filter(action=Action.PRODUCT_DEACTIVATED).order_by("created_at"))
    reactivated = list(done.filter(action=Action.PRODUCT_REACTIVATED).order_by("created_at"))
    kept = list(
        audit.filter(action=Action.SOLD_OUT_KEPT)
        .filter(Q(after__regra__in=NO_EVIDENCE_RULES))
        .order_by("created_at")
    )
    return {
        "day": day.isoformat(),
        "mode": RuntimeSettings.load().mode,
        "codes_assigned": done.filter(action=Action.CODE_ASSIGNED).count(),
        "deactivated_count": len(deactivated),
        "deactivated": _products(deactivated),
        "reactivated_count": len(reactivated),
        "reactivated": _products(reactivated),
        "kept_count": len(kept),
        "kept": _products(kept),
        "would": {
            "codes": would.filter(action=Action.CODE_ASSIGNED).count(),
            "deactivated": would.filter(action=Action.PRODUCT_DEACTIVATED).count(),
            "reactivated": would.filter(action=Action.PRODUCT_REACTIVATED).count(),
        },
        "failed_writes": audit.filter(failed_writes_q()).count(),
        "failed_events": WebhookEvent.objects.filter(
            status=WebhookEvent.Status.FAILED,
            next_attempt_at__isnull=True,
            claimed_at__gte=start,
            claimed_at__lt=end,
        ).count(),
        "failed_runs": JobRun.objects.filter(
            status=JobRun.Status.FAILED, finished_at__gte=start, finished_at__lt=end
        ).count(),
    }


def summary_subject(facts: dict[str, Any]) -> str:
    day = date.fromisoformat(facts["day"])
    return _("Resumo de %(day)s") % {"day": day.strftime("%d/%m/%Y")}


def daily_summary_due(*, now: datetime | None = None) -> date | None:
    """The day to summarise when today's summary time has passed (its claim, once a day, is
    the caller's), else None."""
    local = timezone.localtime(now or timezone.now())
    if local.time() < AlertSettings.load().summary_time:
        return None
    return local.date() - timedelta(days=1)
