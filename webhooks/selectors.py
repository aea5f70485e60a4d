"""Read-only figures about the inbox, for the dashboard and `/health/`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from webhooks.models import WebhookEvent
from webhooks.refusal_fold import refusals_flush

Status = WebhookEvent.Status


def events_pending_count() -> int:
    """Events still to be processed: pending, being processed, or failed with a retry due."""
    return WebhookEvent.objects.filter(
        Q(status__in=[Status.PENDING, Status.PROCESSING])
        | Q(status=Status.FAILED, next_attempt_at__isnull=False)
    ).count()


def events_failed_count() -> int:
    """Events that failed for good (retries exhausted) and wait for staff."""
    return WebhookEvent.objects.filter(status=Status.FAILED, next_attempt_at__isnull=True).count()


def signature_failures_count(*, hours: int = 24) -> int:
    """Requests refused for a missing or wrong signature in the last `hours` (a wrong client
    secret shows up here before Bling disables the webhook)."""
    refusals_flush()  # this process's counts of a flood still in memory
    since = timezone.now() - timedelta(hours=hours)
    totals = WebhookEvent.objects.filter(
        http_status=401, signature_valid=False, received_at__gte=since
    ).aggregate(rows=Count("pk"), repeats=Sum("repeats"))
    # A row also stands for the refusals folded into it (a flood from one address).
    return totals["rows"] + (totals["repeats"] or 0)


def events_to_process(*, now=None, limit: int | None = None) -> list[int]:
    """Primary keys of events that processing would claim now, oldest first."""
    now = now or timezone.now()
    qs = (
        WebhookEvent.objects.filter(signature_valid=True)
        .filter(Q(status=Status.PENDING) | Q(status=Status.FAILED, next_attempt_at__lte=now))
        .order_by("received_at", "pk")
        .values_list("pk", flat=True)
    )
    return list(qs[:limit] if limit else qs)


@dataclass
class InboxFigures:
    """What the dashboard shows about deliveries we answered but did not act upon."""

    days: int
    # (code, label, count, admin filter query) for each ignore reason seen, most first.
    ignored: list[tuple[str, str, int, str]] = field(default_factory=list)
    other_company: int = 0
    # Refused (unsigned, badly signed, oversized) requests per local day, newest first.
    refused_per_day: list[tuple[date, int]] = field(default_factory=list)
    # (remote address, refused requests) over the refused rows' 48 h, most first.
    refused_sources: list[tuple[str, int]] = field(default_factory=list)

    @property
    def ignored_total(self) -> int:
        return sum(n for _code, _label, n, _q in self.ignored)


def inbox_figures(*, days: int = 7, refused_hours: int = 48, top: int = 5) -> InboxFigures:
    """Ignored deliveries per reason over `days`, and refused requests per day and by source
    (what retention keeps of them: 48 h). Refusals folded into a row count with it."""
    now = timezone.now()
    labels = dict(WebhookEvent.IgnoreReason.choices)
    rows = (
        WebhookEvent.objects.filter(received_at__gte=now - timedelta(days=days))
        .exclude(ignore_reason="")
        .values("ignore_reason")
        .annotate(n=Count("pk"))
        .order_by("-n")
    )
    figures = InboxFigures(days=days)
    for row in rows:
        code = row["ignore_reason"]
        figures.ignored.append(
            (code, str(labels.get(code, code)), row["n"], f"?ignore_reason__exact={code}")
        )
        if code == WebhookEvent.IgnoreReason.OTHER_COMPANY:
            figures.other_company = row["n"]
    refusals_flush()
    refused = WebhookEvent.objects.filter(
        signature_valid=False, received_at__gte=now - timedelta(hours=refused_hours)
    )
    weight = Count("pk") + Sum("repeats")
    per_day = (
        refused.annotate(day=TruncDate("received_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(n=weight)
        .order_by("-day")
    )
    figures.refused_per_day = [(r["day"], r["n"]) for r in per_day]
    # Per sending network (an IPv4 address, an IPv6 /64): one host's many IPv6 addresses
    # are one source.
    sources = refused.values("remote_network").annotate(n=weight).order_by("-n")[:top]
    figures.refused_sources = [(r["remote_network"] or "—", r["n"]) for r in sources]
    return figures
