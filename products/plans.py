"""Plans (SPEC 5.14): every simulation of `codes` or `stock` keeps what it would change.

The sweeps, when their run is a simulation, hand their would-be changes and the products they
leave alone to a `PlanRecorder` (one per run); this module also answers what staff ask of a
plan: its totals, whether it may still be applied, and why not.

What a plan may be applied, and when (`plan_refusal`): the run is a simulation of `codes` or
`stock` that succeeded, it is the latest simulation of its kind, it is not older than
`RuntimeSettings.plan_max_age_hours`, and the installation is not paused.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from blingsync.audit import AuditSource
from blingsync.audit_reasons import reason_sentence
from blingsync.jobrunner import JobContext, JobStopped
from blingsync.models import AuditLog, JobRun, RuntimeSettings
from products.models import CodeCounter, PlanItem, PlanLeftAlone

logger = logging.getLogger(__name__)

PLAN_KINDS = ("codes", "stock")
_BULK = 500


def counters_seeded() -> bool:
    """Whether counters were ever raised to the codes already in Bling (a live
    `seed_counters` run that succeeded). Before that, previews may collide with old codes."""
    runs = JobRun.objects.filter(kind="seed_counters", status=JobRun.Status.SUCCEEDED)
    return any(not run.dry_run for run in runs.only("params", "details")[:50])


@dataclass
class PlanRecorder:
    """Collects a simulation's plan items and left-alone products, written in bulk."""

    run: JobRun
    _items: list[PlanItem] = field(default_factory=list)
    _left: list[PlanLeftAlone] = field(default_factory=list)
    _keys: set[tuple[int, str]] = field(default_factory=set)
    _position: int = 0
    left_counts: Counter = field(default_factory=Counter)

    @classmethod
    def start(cls, run: JobRun, *, kind: str) -> PlanRecorder:
        """Begin the plan of `run`: note in its details what the warnings need later."""
        details = run.details
        plan: dict[str, Any] = {"kind": kind}
        if kind == "codes":
            plan["counters"] = dict(CodeCounter.objects.values_list("prefix", "last_value"))
            plan["counters_seeded"] = counters_seeded()
        details["plan"] = plan
        return cls(run=run)

    def item(
        self,
        *,
        action: str,
        product_id: int,
        name: str,
        code: str,
        proposed: str,
        reason: str,
        reason_rule: str,
        facts: dict[str, Any],
        category_id: int | None = None,
        category_name: str = "",
        prefix: str = "",
        parent_id: int | None = None,
    ) -> None:
        key = (product_id, action)
        if key in self._keys:
            return
        self._keys.add(key)
        self._position += 1
        self._items.append(
            PlanItem(
                run=self.run,
                position=self._position,
                bling_product_id=product_id,
                parent_product_id=parent_id,
                name=(name or "")[:200],
                code=(code or "").strip()[:60],
                category_id=category_id,
                category_name=(category_name or "")[:300],
                action=action,
                proposed=proposed[:60],
                prefix=prefix[:10],
                reason=reason,
                reason_rule=reason_rule[:60],
                facts=_plain(facts),
            )
        )
        if len(self._items) >= _BULK:
            self.flush()

    def left_alone(
        self, *, product_id: int, name: str, code: str, reason_key: str, reason: str = ""
    ) -> None:
        self.left_counts[reason_key] += 1
        self._left.append(
            PlanLeftAlone(
                run=self.run,
                bling_product_id=product_id,
                name=(name or "")[:200],
                code=(code or "").strip()[:60],
                reason_key=reason_key[:60],
                reason=reason,
            )
        )
        if len(self._left) >= _BULK:
            self.flush()

    def flush(self) -> None:
        if self._items:
            PlanItem.objects.bulk_create(self._items, ignore_conflicts=True)
            self._items = []
        if self._left:
            PlanLeftAlone.objects.bulk_create(self._left)
            self._left = []

    def finish(self) -> None:
        """Write what is left and the totals into the run's details."""
        self.flush()
        totals = dict(
            PlanItem.objects.filter(run=self.run)
            .values_list("action")
            .annotate(n=Count("id"))
            .values_list("action", "n")
        )
        plan = dict(self.run.details.get("plan") or {})
        plan["items"] = sum(totals.values())
        plan["by_action"] = totals
        plan["left_alone"] = dict(self.left_counts)
        self.run.details["plan"] = plan


def _plain(value: Any) -> Any:
    """JSON-safe facts (Decimals and dates as strings)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


# ---------------------------------------------------------------- reading plans


def plan_run_is_plan(run: JobRun) -> bool:
    """Whether `run` is a simulation that kept a plan."""
    return run.kind in PLAN_KINDS and run.dry_run and "plan" in (run.details or {})


def plan_latest(*, kind: str) -> JobRun | None:
    """The latest simulation of `kind` that finished and kept a plan."""
    for run in JobRun.objects.filter(kind=kind, status=JobRun.Status.SUCCEEDED).order_by(
        "-started_at", "-id"
    )[:50]:
        if plan_run_is_plan(run):
            return run
    return None


def plan_refusal(*, run: JobRun) -> str:
    """Why the plan of `run` may not be applied now ("" when it may)."""
    if not plan_run_is_plan(run):
        return _("A execução #%(id)d não é uma simulação com plano.") % {"id": run.pk}
    if run.status != JobRun.Status.SUCCEEDED:
        return _(
            "A simulação #%(id)d não terminou com sucesso: seu plano não pode ser aplicado."
        ) % {"id": run.pk}
    latest = plan_latest(kind=run.kind)
    if latest is not None and latest.pk != run.pk:
        return _(
            "O plano #%(id)d foi substituído pela simulação #%(latest)d, mais recente: revise e "
            "aplique essa."
        ) % {"id": run.pk, "latest": latest.pk}
    settings_row = RuntimeSettings.load()
    max_age = timedelta(hours=settings_row.plan_max_age_hours)
    finished = run.finished_at or run.created_at
    if timezone.now() - finished > max_age:
        return _(
            "O plano #%(id)d tem mais de %(hours)d horas: rode uma nova simulação e aplique a dela."
        ) % {"id": run.pk, "hours": settings_row.plan_max_age_hours}
    if settings_row.mode == RuntimeSettings.Mode.PAUSED:
        return _("A instalação está pausada: nada é gravado no Bling até sair da pausa.")
    return ""


def plan_totals(*, run: JobRun) -> dict[str, Any]:
    """Counts of the plan by action, by category and by status, and the left-alone reasons."""
    items = PlanItem.objects.filter(run=run)
    by_action = dict(items.values_list("action").annotate(n=Count("id")).values_list("action", "n"))
    by_status = dict(items.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    by_category = list(
        items.values("category_name", "action").annotate(n=Count("id")).order_by("category_name")
    )
    left = dict(
        PlanLeftAlone.objects.filter(run=run)
        .values_list("reason_key")
        .annotate(n=Count("id"))
        .values_list("reason_key", "n")
    )
    # Reasons counted but not listed one by one (e.g. products that already have a code).
    for key, n in (run.details.get("skipped_by_reason") or {}).items():
        left.setdefault(key, n)
    return {
        "by_action": by_action,
        "by_status": by_status,
        "by_category": by_category,
        "left_alone": left,
        "total": sum(by_action.values()),
    }


def plan_summary_text(*, by_action: dict[str, int]) -> str:
    """ "12 códigos, 3 inativações" (what the dashboard and the commands say)."""
    parts = []
    n = by_action.get(PlanItem.Action.CODE_ASSIGN, 0)
    if n:
        parts.append(_("%(n)d códigos") % {"n": n} if n != 1 else _("1 código"))
    n = by_action.get(PlanItem.Action.DEACTIVATE, 0)
    if n:
        parts.append(_("%(n)d inativações") % {"n": n} if n != 1 else _("1 inativação"))
    n = by_action.get(PlanItem.Action.REACTIVATE, 0)
    if n:
        parts.append(_("%(n)d reativações") % {"n": n} if n != 1 else _("1 reativação"))
    return ", ".join(parts) or _("nada a mudar")


def plan_item_reason(item: PlanItem) -> str:
    """The item's reason as staff read it (in their language when the rule is known)."""
    return reason_sentence(rule=item.reason_rule, data=item.facts) or item.reason


def plan_counters_moved(*, run: JobRun) -> dict[str, tuple[int, int]]:
    """Prefixes of the plan whose counter moved since the simulation: {prefix: (then, now)}."""
    then = (run.details.get("plan") or {}).get("counters") or {}
    prefixes = set(
        PlanItem.objects.filter(run=run, action=PlanItem.Action.CODE_ASSIGN)
        .values_list("prefix", flat=True)
        .distinct()
    )
    now = dict(CodeCounter.objects.filter(prefix__in=prefixes).values_list("prefix", "last_value"))
    return {
        prefix: (int(then.get(prefix, 0)), int(now.get(prefix, 0)))
        for prefix in sorted(prefixes)
        if int(now.get(prefix, 0)) != int(then.get(prefix, 0))
    }


def plan_waiting() -> list[tuple[JobRun, dict[str, int]]]:
    """The latest plan of each kind still waiting (pending items, may be applied)."""
    out = []
    for kind in PLAN_KINDS:
        run = plan_latest(kind=kind)
        if run is None or plan_refusal(run=run):
            continue
        pending = dict(
            PlanItem.objects.filter(run=run, status=PlanItem.Status.PENDING)
            .values_list("action")
            .annotate(n=Count("id"))
            .values_list("action", "n")
        )
        if pending:
            out.append((run, pending))
    return out


# ---------------------------------------------------------------- approved runs (plan, undo)


def approved_run_target(
    ctx: JobContext, *, param: str, missing: str, refusal: Callable[..., str]
) -> JobRun:
    """The run an approved run (`plan`, `undo`) acts on, checked again at run time.

    Its writes were approved by staff: they go out in dry-run mode too, so the run is not a
    simulation (its details say so). Raises JobStopped with `missing` or the refusal."""
    ctx.note("dry_run", False)
    ctx.run.details.pop("dry_run_reason", None)
    target = JobRun.objects.filter(pk=int(ctx.params.get(param) or 0)).first()
    if target is None:
        raise JobStopped(missing)
    why = refusal(run=target)
    if why:
        raise JobStopped(why)
    ctx.note(param, target.pk)
    return target


def approved_audit_source(ctx: JobContext, *, ref: str) -> AuditSource:
    """Audit entries of an approved run: the run, what it acts on, who approved it."""
    return AuditSource(
        source=AuditLog.Source.JOB,
        ref=ref,
        actor=ctx.run.requested_by or ctx.run.trigger,
        job_run_id=ctx.run.pk,
    )
