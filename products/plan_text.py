"""A plan in the retailer's words (SPEC 5.14): what `plan_show` prints, what the simulation
commands add to their summary, and the warnings the plan page shows.

Every string is a Portuguese source string under gettext: the active language decides.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from blingsync.models import JobRun
from products.models import PlanItem
from products.plans import (
    plan_counters_moved,
    plan_item_reason,
    plan_refusal,
    plan_summary_text,
    plan_totals,
)


def plan_warnings(*, run: JobRun) -> list[str]:
    """What staff must know before applying: unseeded counters, counters that moved."""
    plan = (run.details or {}).get("plan") or {}
    out = []
    if plan.get("kind") == "codes" and plan.get("counters_seeded") is False:
        out.append(
            _("Contadores não semeados: os códigos podem colidir com os já existentes no Bling.")
            + " "
            + _("Semeie os contadores e rode uma nova simulação antes de aplicar.")
        )
    moved = plan_counters_moved(run=run)
    if moved:
        changes = ", ".join(
            _("%(prefix)s de %(then)d para %(now)d") % {"prefix": p, "then": a, "now": b}
            for p, (a, b) in moved.items()
        )
        out.append(
            _(
                "O contador mudou desde a simulação (%(changes)s): os códigos gravados serão "
                "os próximos números na hora de aplicar, não os da prévia."
            )
            % {"changes": changes}
        )
    return out


def plan_item_line(item: PlanItem) -> str:
    """One item: status, product, what would change, why."""
    product = item.name or _("produto %(id)d") % {"id": item.bling_product_id}
    if item.action == PlanItem.Action.CODE_ASSIGN:
        change = _("código %(code)s (prévia)") % {"code": item.proposed}
    elif item.action == PlanItem.Action.DEACTIVATE:
        change = _("inativar")
    else:
        change = _("reativar")
    line = f"[{item.get_status_display()}] {product} (id {item.bling_product_id})"
    if item.code:
        line += f" {item.code}"
    if item.category_name:
        line += f" · {item.category_name}"
    line += f" → {change}: {plan_item_reason(item)}"
    if item.status != PlanItem.Status.PENDING:
        outcome = item.status_reason or item.applied_value
        if item.applied_value and item.action == PlanItem.Action.CODE_ASSIGN:
            outcome = _("gravado %(code)s") % {"code": item.applied_value}
        if outcome:
            line += f" — {outcome}"
    return line


def plan_header(*, run: JobRun) -> str:
    totals = plan_totals(run=run)
    when = timezone.localtime(run.finished_at or run.created_at).strftime("%d/%m/%Y %H:%M")
    return _("Plano #%(id)d (%(kind)s, simulação de %(when)s): %(summary)s") % {
        "id": run.pk,
        "kind": run.get_kind_display(),
        "when": when,
        "summary": plan_summary_text(by_action=totals["by_action"]),
    }


def plan_apply_hint(*, run: JobRun) -> str:
    """The line a simulation command ends with: its plan and how to apply it."""
    refusal = plan_refusal(run=run)
    if not PlanItem.objects.filter(run=run).exists():
        return _("Plano #%(id)d: nada a mudar.") % {"id": run.pk}
    if refusal:
        return _("Plano #%(id)d: %(why)s") % {"id": run.pk, "why": refusal}
    return _(
        "Plano #%(id)d. Para revisar: python manage.py plan_show --run %(id)d; para aplicar: "
        "python manage.py plan_apply --run %(id)d"
    ) % {"id": run.pk}
