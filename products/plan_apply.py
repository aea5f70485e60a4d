"""Applying a plan (SPEC 5.14): staff approved these items of a simulation; write exactly those.

A job run of kind `plan` (params: `plan_run`, optional `product_ids` and `action`) runs inside
`write_scope(authority=APPROVED)`: in any mode but paused (in dry-run mode, applying an
approved plan *is* the way to write). It
- claims the chosen pending items with a conditional UPDATE (pending -> applying, the apply
  run recorded): each item is applied at most once, whoever else tries at the same time;
- re-reads the items' products from Bling in batches (`catalog.products_by_ids`, 100 ids per
  call, every stock state) and, for stock items, their balances (`catalog.stock_balances`,
  100 per call), never one detail call per product;
- applies an item only if its facts still hold, through the same services a live run uses
  (`codes.codes_apply`: allocates the code now, in the plan's order, and audits the write;
  `soldout.soldout_process` with the approved verdict per product: decides again from the
  fresh facts and writes only where the verdict is the approved one); the others are
  recorded as not applied, with why ("já tem código", "estoque voltou", ...).
Audit entries carry the apply run, the plan (`source_ref` "plano #N") and who approved it.
Nothing outside the plan is touched.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from blingsync.audit import audit_source
from blingsync.bling import catalog
from blingsync.bling.types import BlingProduct, ProductSituation
from blingsync.jobrunner import JobContext, job_run_queue, register_job
from blingsync.models import JobRun, RuntimeSettings
from blingsync.write_gate import WriteAuthority, write_scope
from products.codes import (
    ALREADY_CODED,
    BEING_WRITTEN,
    CODED,
    FAILED,
    CodeTarget,
    code_reconcile,
    codes_apply,
)
from products.models import PlanItem, ProductStockState
from products.plans import approved_audit_source, approved_run_target, plan_refusal
from products.selectors import category_code_decision, category_nodes_load
from products.soldout import SoldOutCandidate, SoldOutResult, soldout_process
from products.soldout_rules import Verdict

logger = logging.getLogger(__name__)

BATCH = 100
Status = PlanItem.Status
Action = PlanItem.Action


class PlanRefused(Exception):
    """The plan may not be applied (its message says why, for staff)."""


@dataclass(frozen=True)
class PlanSelection:
    product_ids: tuple[int, ...] = ()
    action: str = ""


def plan_apply_queue(
    *,
    plan_run: JobRun,
    requested_by: str,
    trigger: str,
    product_ids: Iterable[int] = (),
    action: str = "",
    now: bool = False,
) -> JobRun:
    """Check the plan may be applied and queue (or, `now`, run here) its apply run.

    Raises PlanRefused with the reason for staff: not a plan, superseded, too old, paused,
    an unknown action, or nothing pending in what was chosen."""
    refusal = plan_refusal(run=plan_run)
    if refusal:
        raise PlanRefused(refusal)
    if action and action not in Action.values:
        raise PlanRefused(
            _("Ação desconhecida: %(action)s (use %(choices)s).")
            % {"action": action, "choices": ", ".join(Action.values)}
        )
    selection = PlanSelection(tuple(sorted({int(p) for p in product_ids})), action)
    _orphans_release(plan_run)
    pending = _items_chosen(plan_run, selection).filter(status=Status.PENDING)
    if not pending.exists():
        raise PlanRefused(
            _("Nada a aplicar: nenhum item aguardando no plano #%(id)d com essa escolha.")
            % {"id": plan_run.pk}
        )
    params: dict[str, Any] = {"plan_run": plan_run.pk}
    if selection.product_ids:
        params["product_ids"] = list(selection.product_ids)
    if selection.action:
        params["action"] = selection.action
    if now:
        from blingsync.jobrunner import job_run_now

        return job_run_now(kind="plan", trigger=trigger, params=params, requested_by=requested_by)
    return job_run_queue(kind="plan", trigger=trigger, params=params, requested_by=requested_by)


def _orphans_release(plan_run: JobRun) -> None:
    """Items claimed by an apply run that is no longer running (its worker was killed before
    it settled them) wait again. Applying one again is safe: its product is re-read first,
    and one already changed in Bling is recorded as such ("já tem código", "já está
    inativo"). Only one `plan` run runs at a time (`one_running_run_per_kind`)."""
    released = (
        PlanItem.objects.filter(run=plan_run, status=Status.APPLYING)
        .exclude(applied_by__status=JobRun.Status.RUNNING)
        .update(status=Status.PENDING, applied_by=None)
    )
    if released:
        logger.warning("plan %s: %d item(s) of a dead apply run wait again", plan_run.pk, released)


def _items_chosen(plan_run: JobRun, selection: PlanSelection):
    items = PlanItem.objects.filter(run=plan_run)
    if selection.product_ids:
        items = items.filter(bling_product_id__in=selection.product_ids)
    if selection.action:
        items = items.filter(action=selection.action)
    return items


@register_job("plan", uses_since=False)
def plan_apply_job(ctx: JobContext) -> None:
    """The `plan` job: apply the approved items of a simulation's plan."""
    plan_run = approved_run_target(
        ctx, param="plan_run", missing=_("plano não encontrado"), refusal=plan_refusal
    )
    selection = PlanSelection(
        tuple(int(p) for p in ctx.params.get("product_ids") or ()), ctx.params.get("action") or ""
    )
    _orphans_release(plan_run)
    with transaction.atomic():
        claimed = (
            _items_chosen(plan_run, selection)
            .filter(status=Status.PENDING)
            .update(status=Status.APPLYING, applied_by=ctx.run)
        )
    ctx.note("claimed", claimed)
    items = list(
        PlanItem.objects.filter(run=plan_run, applied_by=ctx.run, status=Status.APPLYING).order_by(
            "position", "id"
        )
    )
    source = approved_audit_source(ctx, ref=f"plano #{plan_run.pk}")
    done = 0
    try:
        with (
            write_scope(authority=WriteAuthority.APPROVED, run_id=ctx.run.pk),
            audit_source(source),
        ):
            for start in range(0, len(items), BATCH):
                chunk = items[start : start + BATCH]
                found = catalog.products_by_ids(
                    product_ids=[i.bling_product_id for i in chunk], criterio=catalog.PRODUCTS_ALL
                )
                codes = [i for i in chunk if i.action == Action.CODE_ASSIGN]
                stock = [i for i in chunk if i.action != Action.CODE_ASSIGN]
                if codes:
                    _codes_apply(ctx, codes, found)
                if stock:
                    _stock_apply(ctx, stock, found)
                done += len(chunk)
                ctx.progress(done, len(items), _("aplicando o plano"))
    finally:
        # Items claimed but never reached (Bling stopped answering): back to waiting, so a
        # new apply can take them (nothing was written for them).
        PlanItem.objects.filter(applied_by=ctx.run, status=Status.APPLYING).update(
            status=Status.PENDING, applied_by=None
        )


def _settle(ctx: JobContext, item: PlanItem, status: str, why: str = "", value: str = "") -> None:
    PlanItem.objects.filter(pk=item.pk).update(
        status=status, status_reason=why[:2000], applied_value=value[:60], applied_at=timezone.now()
    )
    if status == Status.APPLIED:
        ctx.count("changed")
    elif status == Status.FAILED:
        ctx.count("errors")
    else:
        ctx.count("skipped")
    ctx.count("seen")


def _gone(product: BlingProduct | None) -> str:
    if product is None:
        return _("produto não encontrado no Bling")
    if product.situation == ProductSituation.EXCLUDED:
        return _("produto excluído no Bling")
    return ""


def _codes_apply(ctx: JobContext, items: list[PlanItem], found: dict[int, BlingProduct]) -> None:
    nodes = category_nodes_load()
    targets: list[CodeTarget] = []
    by_product: dict[int, PlanItem] = {}
    for item in items:
        product = found.get(item.bling_product_id)
        gone = _gone(product)
        if gone or product is None:
            _settle(ctx, item, Status.SKIPPED, gone)
            continue
        if product.has_code:
            code_reconcile(product_id=product.id, code_in_bling=product.code)
            _settle(
                ctx, item, Status.SKIPPED, _("já tem código (%(code)s)") % {"code": product.code}
            )
            continue
        decision = category_code_decision(category_id=item.category_id, nodes=nodes)
        if item.category_id is not None and decision.prefix != item.prefix:
            why = (
                _("a regra da categoria mudou: agora o prefixo é %(prefix)s")
                % {"prefix": decision.prefix}
                if decision.generates
                else _("a regra da categoria mudou: não gera mais código")
            )
            _settle(ctx, item, Status.SKIPPED, why)
            continue
        by_product[product.id] = item
        targets.append(
            CodeTarget(
                product.id,
                item.prefix,
                decision.rule if item.category_id is not None else item.reason,
                item.parent_product_id,
                name=product.name,
                reason_rule=item.reason_rule,
                reason_data={
                    k: v for k, v in item.facts.items() if k not in ("code_seen", "proposed")
                },
            )
        )
    if not targets:
        return
    # Allocated now, in the plan's order (the plan's numbers were a preview).
    for result in codes_apply(targets=targets, dry_run=False):
        item = by_product[result.product_id]
        if result.outcome == CODED:
            _settle(ctx, item, Status.APPLIED, value=result.code)
        elif result.outcome == ALREADY_CODED:
            _settle(
                ctx, item, Status.SKIPPED, _("já tem código (%(code)s)") % {"code": result.code}
            )
        elif result.outcome == FAILED:
            _settle(ctx, item, Status.FAILED, result.error)
        elif result.reason == BEING_WRITTEN:
            _settle(ctx, item, Status.SKIPPED, _("outro processo está gravando o código agora"))
        else:
            _settle(ctx, item, Status.SKIPPED, result.reason)


def _stock_apply(ctx: JobContext, items: list[PlanItem], found: dict[int, BlingProduct]) -> None:
    settings_row = RuntimeSettings.load()
    read_at = timezone.now()
    live: list[tuple[PlanItem, BlingProduct]] = []
    for item in items:
        product = found.get(item.bling_product_id)
        gone = _gone(product)
        if gone or product is None:
            _settle(ctx, item, Status.SKIPPED, gone)
        else:
            live.append((item, product))
    if not live:
        return
    balances = {
        b.product_id: b.available_total
        for b in catalog.stock_balances(
            product_ids=[p.id for _, p in live], deposit_id=settings_row.stock_deposit_id
        )
    }
    candidates = [
        SoldOutCandidate(
            product=product,
            available=balances.get(product.id, product.available_stock or Decimal(0)),
            category_id=item.category_id,
            read_at=read_at,
        )
        for item, product in live
    ]
    allowed = {
        item.bling_product_id: (
            Verdict.DEACTIVATE if item.action == Action.DEACTIVATE else Verdict.REACTIVATE
        )
        for item, _product in live
    }
    results = soldout_process(
        candidates=candidates,
        dry_run=False,
        settings_row=settings_row,
        verdicts_allowed={pid: str(v) for pid, v in allowed.items()},
    )
    for (item, product), candidate, result in zip(live, candidates, results, strict=True):
        if result.applied:
            _settle(ctx, item, Status.APPLIED, value=str(result.situation_after))
        elif result.error:
            _settle(ctx, item, Status.FAILED, result.error)
        else:
            why = _stock_why(item, product, candidate.available, result)
            _settle(ctx, item, Status.SKIPPED, why)


def _stock_why(
    item: PlanItem, product: BlingProduct, available: Decimal, result: SoldOutResult
) -> str:
    """Why a stock item's facts no longer hold, in words."""
    if item.action == Action.DEACTIVATE:
        if product.situation == ProductSituation.INACTIVE:
            return _("já está inativo no Bling")
        if available > 0:
            return _("estoque voltou")
    else:
        if product.situation == ProductSituation.ACTIVE:
            return _("reativado à mão")
        if available <= 0:
            return _("ainda sem estoque")
        ours = ProductStockState.objects.filter(
            bling_product_id=product.id, deactivated_by_blingsync=True
        ).exists()
        if not ours:
            return _("não foi inativado pelo blingsync")
    return _("a regra agora decide outra coisa: %(reason)s") % {"reason": result.reason}
