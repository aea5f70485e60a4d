"""What the staff dashboard shows, read from the database (selectors, no HTTP, no writes).

The chart is computed here as plain geometry (bars with x/y/height) so the template can draw it
as inline SVG: no JavaScript library and no CDN, the page works offline.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_q.models import Schedule

from blingsync.bling.ratelimit import ratelimit_state
from blingsync.connection import bling_connect_url
from blingsync.formatting import duration_format, expires_in_format
from blingsync.jobrunner import job_kinds_full
from blingsync.models import AuditLog, JobRun, RuntimeSettings
from blingsync.operations.schedules import SCHEDULES
from blingsync.operations.status import (
    connection_status,
    event_counts,
    queue_backlog,
)
from blingsync.schedule_gate import bling_never_connected
from webhooks.selectors import inbox_figures

logger = logging.getLogger(__name__)

SIMULATED = "sim:"
# The chart's series, in drawing order, with their colours.
CHART_SERIES = [
    (AuditLog.Action.CODE_ASSIGNED, _("códigos atribuídos"), "#417690"),
    (AuditLog.Action.PRODUCT_DEACTIVATED, _("produtos inativados"), "#ba2121"),
    (AuditLog.Action.PRODUCT_REACTIVATED, _("produtos reativados"), "#5b9a2f"),
    # Simulations ("faria"), apart from what was done: distinct products per day, since every
    # simulation proposes again what is still waiting.
    (SIMULATED + AuditLog.Action.CODE_ASSIGNED, _("códigos (simulação)"), "#9fc3d6"),
    (SIMULATED + AuditLog.Action.PRODUCT_DEACTIVATED, _("inativações (simulação)"), "#e4a5a5"),
]
# Warn on the dashboard when the access token expires sooner than this.
TOKEN_EXPIRY_WARNING = timedelta(minutes=30)


@dataclass
class ConnectionSummary:
    connected: bool
    status_label: str
    company: str
    expires_at: datetime | None
    expires_in_seconds: float | None
    needs_connect: bool
    last_refresh_ok: bool | None
    last_refresh_error: str
    connect_url: str
    admin_url: str | None
    # /situacoes/modulos answered 403: orders are judged by `situacao.valor` (since when).
    situations_refused_at: datetime | None = None

    @property
    def expires_in(self) -> str:
        return expires_in_format(self.expires_in_seconds)

    @property
    def expiring_soon(self) -> bool:
        return (
            self.expires_in_seconds is not None
            and self.expires_in_seconds < TOKEN_EXPIRY_WARNING.total_seconds()
        )


@dataclass
class KindSummary:
    kind: str
    label: str
    last_run: JobRun | None
    last_success: JobRun | None
    next_run: datetime | None = None
    scheduled: bool = False
    # Scheduled, but no success for three of its intervals: the worker may be down or the
    # job keeps failing. Staff see it in red.
    overdue: bool = False
    # What the "run now" button offers the user looking (set by the view).
    may_simulate: bool = False
    may_run_live: bool = False

    @property
    def duration(self) -> str:
        return duration_format(self.last_run.duration_seconds if self.last_run else None)


@dataclass
class ChartBar:
    x: float
    y: float
    width: float
    height: float
    color: str
    title: str


@dataclass
class Chart:
    width: int
    height: int
    days: list[date]
    totals: dict[str, int]
    legend: list[tuple[str, str, int]]
    bars: list[ChartBar] = field(default_factory=list)
    y_ticks: list[tuple[float, int]] = field(default_factory=list)
    x_labels: list[tuple[float, str]] = field(default_factory=list)
    max_value: int = 0
    plot_left: int = 36
    plot_bottom: int = 0

    @property
    def empty(self) -> bool:
        return self.max_value == 0


def dashboard_connection() -> ConnectionSummary:
    status = connection_status()
    conn = status.connection
    return ConnectionSummary(
        connected=status.connected,
        status_label=status.label,
        company=status.company,
        expires_at=status.expires_at,
        expires_in_seconds=status.expires_in_seconds,
        needs_connect=not status.connected,
        last_refresh_ok=conn.last_refresh_ok if conn else None,
        last_refresh_error=conn.last_refresh_error if conn else "",
        connect_url=bling_connect_url(),
        admin_url=(
            reverse("admin:blingsync_blingconnection_change", args=[conn.pk]) if conn else None
        ),
        situations_refused_at=conn.situations_refused_at if conn else None,
    )


def dashboard_kinds(*, never_connected: bool = False) -> list[KindSummary]:
    """The last run, the last successful run and the next scheduled run of every job kind.
    While Bling was never connected nothing is "overdue" (the page asks to connect once)."""
    names = {spec.name: spec.kind for spec in SCHEDULES}
    schedules = {
        names[s.name]: s for s in Schedule.objects.filter(name__in=names).exclude(repeats=0)
    }
    summaries = []
    now = timezone.now()
    for value, label in JobRun.Kind.choices:
        runs = JobRun.objects.filter(kind=value)
        summary = KindSummary(
            kind=value,
            label=str(label),
            last_run=runs.order_by("-created_at", "-id").first(),
            last_success=runs.filter(status=JobRun.Status.SUCCEEDED)
            .order_by("-finished_at", "-id")
            .first(),
            next_run=schedules[value].next_run if value in schedules else None,
            scheduled=value in schedules,
        )
        schedule = schedules.get(value)
        if schedule is not None and schedule.schedule_type == Schedule.MINUTES:
            allowed = timedelta(minutes=3 * (schedule.minutes or 0))
            last_ok = summary.last_success.finished_at if summary.last_success else None
            summary.overdue = (
                not never_connected
                and bool(summary.last_run or last_ok)
                and (last_ok is None or now - last_ok > allowed)
            )
        summaries.append(summary)
    return summaries


def dashboard_webhook_inbox():
    """Deliveries answered but not acted upon (ignored per reason, other company) and refused
    requests per day and by source; None when the figures cannot be read."""
    try:
        return inbox_figures()
    except Exception:  # a dashboard with one box missing beats no dashboard
        logger.exception("could not read the webhook inbox figures for the dashboard")
        return None


def dashboard_daily_changes(*, days: int = 30) -> tuple[list[date], dict[str, dict[date, int]]]:
    """Per day (local time) over the last `days` days: changes done in Bling (outcome ok), and
    apart, the ones simulations would make (distinct products a day)."""
    today = timezone.localdate()
    first = today - timedelta(days=days - 1)
    start = timezone.make_aware(datetime.combine(first, datetime.min.time()))
    series = [key for key, _label, _color in CHART_SERIES]
    actions = [key for key in series if not key.startswith(SIMULATED)]
    simulated = [key.removeprefix(SIMULATED) for key in series if key.startswith(SIMULATED)]
    entries = AuditLog.objects.filter(created_at__gte=start).annotate(
        day=TruncDate("created_at", tzinfo=timezone.get_current_timezone())
    )
    rows = (
        entries.filter(outcome=AuditLog.Outcome.OK, action__in=actions)
        .values("day", "action")
        .annotate(n=Count("id"))
        .order_by()
    )
    per_action: dict[str, dict[date, int]] = {key: {} for key in series}
    for row in rows:
        per_action[row["action"]][row["day"]] = row["n"]
    would = (
        entries.filter(outcome=AuditLog.Outcome.WOULD_DO, action__in=simulated)
        .values("day", "action")
        .annotate(n=Count("bling_product_id", distinct=True))
        .order_by()
    )
    for row in would:
        per_action[SIMULATED + row["action"]][row["day"]] = row["n"]
    return [first + timedelta(days=i) for i in range(days)], per_action


def _nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5 x 10^n that is >= value (a round top for the y axis)."""
    if value <= 0:
        return 1
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if step * magnitude >= value:
                return step * magnitude
        magnitude *= 10


def chart_build(
    *,
    days: list[date],
    per_action: dict[str, dict[date, int]],
    width: int = 720,
    height: int = 220,
) -> Chart:
    """Grouped bars per day, one colour per series, with y ticks and a date every 5 days."""
    plot_left, plot_top, plot_bottom = 36, 10, height - 24
    plot_height = plot_bottom - plot_top
    plot_width = width - plot_left - 6
    max_value = max(
        (n for series in per_action.values() for n in series.values()),
        default=0,
    )
    top = _nice_ceiling(max_value)
    slot = plot_width / max(len(days), 1)
    bar_width = max(slot / (len(CHART_SERIES) + 1), 1.0)
    bars = []
    for d_index, day in enumerate(days):
        for s_index, (action, label, color) in enumerate(CHART_SERIES):
            n = per_action.get(action, {}).get(day, 0)
            if not n:
                continue
            bar_height = plot_height * n / top
            bars.append(
                ChartBar(
                    x=round(plot_left + d_index * slot + bar_width * (s_index + 0.5), 1),
                    y=round(plot_bottom - bar_height, 1),
                    width=round(bar_width, 1),
                    height=round(bar_height, 1),
                    color=color,
                    title=f"{day.strftime('%d/%m')}: {label} = {n}",
                )
            )
    ticks = [(round(plot_bottom - plot_height * v / top, 1), v) for v in (0, top // 2, top)]
    if top == 1:
        ticks = [(float(plot_bottom), 0), (float(plot_top), 1)]
    x_labels = [
        (round(plot_left + i * slot + slot / 2, 1), day.strftime("%d/%m"))
        for i, day in enumerate(days)
        if i % 5 == 0 or i == len(days) - 1
    ]
    totals: dict[str, int] = {
        action: sum(per_action.get(action, {}).values()) for action, _l, _c in CHART_SERIES
    }
    legend = [(str(label), color, totals[action]) for action, label, color in CHART_SERIES]
    return Chart(
        width=width,
        height=height,
        days=days,
        totals=totals,
        legend=legend,
        bars=bars,
        y_ticks=ticks,
        x_labels=x_labels,
        max_value=max_value,
        plot_left=plot_left,
        plot_bottom=plot_bottom,
    )


def dashboard_recent_audit(*, limit: int = 15) -> list[AuditLog]:
    return list(AuditLog.objects.select_related("job_run").order_by("-created_at", "-id")[:limit])


def dashboard_bling_calls() -> dict:
    """The shared limiter's state: circuit breaker, throttling after 429s, today's calls."""
    return ratelimit_state()


def dashboard_context() -> dict:
    """Everything the dashboard page shows."""
    settings_row = RuntimeSettings.load()
    days, per_action = dashboard_daily_changes(days=30)
    never_connected = bling_never_connected()
    return {
        "connection": dashboard_connection(),
        "never_connected": never_connected,
        "settings_row": settings_row,
        "mode_is_live": settings_row.mode == RuntimeSettings.Mode.LIVE,
        "mode_is_paused": settings_row.mode == RuntimeSettings.Mode.PAUSED,
        "kinds": dashboard_kinds(never_connected=never_connected),
        "full_kinds": job_kinds_full(),
        "events": event_counts(),
        "webhook_inbox": dashboard_webhook_inbox(),
        "bling_calls": dashboard_bling_calls(),
        "queue_backlog": queue_backlog(),
        "chart": chart_build(days=days, per_action=per_action),
        "recent_audit": dashboard_recent_audit(limit=15),
    }
