"""Undoing a run's deactivations (SPEC 5.14, "Desfazer inativações", `run_undo --run N`).

For a live `codes`/`stock` run or an applied plan (job kind `plan`): the products it
deactivated (its audit entries `product_deactivated`, outcome ok) that are still inactive in
Bling and still deactivated by blingsync are reactivated, in a job run of kind `undo` (params:
`undo_run`), inside `write_scope(authority=APPROVED)`: any mode but paused.

Calls: the products re-read 100 at a time (`catalog.products_by_ids`, every stock state), then
one `PATCH /produtos/{id}/situacoes` for a single product, else one `POST /produtos/situacoes`
per 100. Each reactivation is audited (intent before the call) with the run it undoes.

Codes are not undone: a code may already be in use on sales channels, which match products
by code. A product reactivated here keeps `deactivated_at`, so the rule does not deactivate it
again until a new sale (`soldout_rules`, "reativado pela equipe").
"""

from __future__ import annotations

import logging

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from blingsync.audit import audit_begin, audit_complete, audit_source
from blingsync.bling import catalog
from blingsync.bling.errors import BlingError
from blingsync.bling.types import ProductSituation
from blingsync.jobrunner import JobContext, job_run_now, job_run_queue, register_job
from blingsync.models import AuditLog, JobRun, RuntimeSettings
from blingsync.write_gate import WriteAuthority, write_scope
from products.models import ProductStockState
from products.plans import approved_audit_source, approved_run_target
from products.soldout import BATCH_SIZE, products_situation_write

logger = logging.getLogger(__name__)

UNDOABLE_KINDS = ("codes", "stock", "plan")


class UndoRefused(Exception):
    """The run cannot be undone (its message says why, for staff)."""


def run_deactivated_ids(*, run: JobRun) -> list[int]:
    """The products `run` deactivated in Bling (what an undo would look at)."""
    ids = AuditLog.objects.filter(
        job_run=run,
        action=AuditLog.Action.PRODUCT_DEACTIVATED,
        outcome=AuditLog.Outcome.OK,
        dry_run=False,
        bling_product_id__isnull=False,
    ).values_list("bling_product_id", flat=True)
    return sorted({int(pid) for pid in ids if pid is not None})


def undo_refusal(*, run: JobRun) -> str:
    """Why `run` cannot be undone ("" when it can)."""
    if run.kind not in UNDOABLE_KINDS or run.dry_run:
        return _(
            "Só uma execução ao vivo de códigos ou estoque, ou um plano aplicado, pode ser "
            "desfeita; a #%(id)d não é."
        ) % {"id": run.pk}
    if RuntimeSettings.load().mode == RuntimeSettings.Mode.PAUSED:
        return _("A instalação está pausada: nada é gravado no Bling até sair da pausa.")
    if not run_deactivated_ids(run=run):
        return _("A execução #%(id)d não inativou nenhum produto: nada a desfazer.") % {
            "id": run.pk
        }
    return ""


def run_undo_queue(*, run: JobRun, requested_by: str, trigger: str, now: bool = False) -> JobRun:
    """Check and queue (or, `now`, run here) the undo of `run`. Raises UndoRefused."""
    refusal = undo_refusal(run=run)
    if refusal:
        raise UndoRefused(refusal)
    params = {"undo_run": run.pk}
    if now:
        return job_run_now(kind="undo", trigger=trigger, params=params, requested_by=requested_by)
    return job_run_queue(kind="undo", trigger=trigger, params=params, requested_by=requested_by)


@register_job("undo", uses_since=False)
def run_undo_job(ctx: JobContext) -> None:
    """The `undo` job: reactivate what the run deactivated, where it still holds."""
    target = approved_run_target(
        ctx, param="undo_run", missing=_("execução a desfazer não encontrada"), refusal=undo_refusal
    )
    ids = run_deactivated_ids(run=target)
    source = approved_audit_source(ctx, ref=f"desfazer #{target.pk}")
    skipped: dict[str, int] = {}
    with write_scope(authority=WriteAuthority.APPROVED, run_id=ctx.run.pk), audit_source(source):
        for start in range(0, len(ids), BATCH_SIZE):
            chunk = ids[start : start + BATCH_SIZE]
            found = catalog.products_by_ids(product_ids=chunk, criterio=catalog.PRODUCTS_ALL)
            ours = set(
                ProductStockState.objects.filter(
                    bling_product_id__in=chunk, deactivated_by_blingsync=True
                ).values_list("bling_product_id", flat=True)
            )
            read_at = timezone.now()
            todo = []
            active_again = []
            for pid in chunk:
                ctx.count("seen")
                product = found.get(pid)
                if product is None or product.situation == ProductSituation.EXCLUDED:
                    why = "not_found"
                elif product.situation != ProductSituation.INACTIVE:
                    why = "active_again"
                    active_again.append(pid)
                elif pid not in ours:
                    why = "not_ours"
                else:
                    todo.append(product)
                    continue
                skipped[why] = skipped.get(why, 0) + 1
                ctx.skip(why)
            if active_again:
                # Reactivated by hand: no longer blingsync's (as the stock sweep records it).
                ProductStockState.objects.filter(
                    bling_product_id__in=active_again, deactivated_by_blingsync=True
                ).filter(Q(deactivated_at__isnull=True) | Q(deactivated_at__lt=read_at)).update(
                    deactivated_by_blingsync=False, situation=ProductSituation.ACTIVE
                )
            _reactivate(ctx, target, todo)
            ctx.progress(start + len(chunk), len(ids), _("desfazendo inativações"))
    ctx.note("left_alone", skipped)


def _reactivate(ctx: JobContext, target: JobRun, products: list) -> None:
    if not products:
        return
    entries = {
        p.id: audit_begin(
            action=AuditLog.Action.PRODUCT_REACTIVATED,
            dry_run=False,
            bling_product_id=p.id,
            code=p.code,
            product_name=p.name,
            product_code=p.code,
            before={"situacao": p.situation},
            after={"situacao": ProductSituation.ACTIVE},
            reason=f"desfeito: inativado pela execução #{target.pk}",
            reason_rule="undo.reactivated",
            reason_data={"undone_run": target.pk},
        )
        for p in products
    }
    try:
        errors = products_situation_write(
            product_ids=[p.id for p in products], situation=ProductSituation.ACTIVE
        )
    except BlingError as exc:
        for entry in entries.values():
            audit_complete(entry, ok=False, error=f"{type(exc).__name__}: {exc}")
        raise
    now = timezone.now()
    done = []
    for pid, entry in entries.items():
        error = errors.get(pid, "")
        audit_complete(entry, ok=not error, error=error)
        if error:
            ctx.count("errors")
        else:
            ctx.count("changed")
            done.append(pid)
    # No longer blingsync's to reactivate; `deactivated_at` stays, so the rule does not
    # deactivate it again without a new sale.
    ProductStockState.objects.filter(bling_product_id__in=done).update(
        deactivated_by_blingsync=False, situation=ProductSituation.ACTIVE, reactivated_at=now
    )
