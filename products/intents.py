"""Settling writes to Bling left open by a killed process (SPEC 5.8: intent before write).

Every write is recorded as an intent before its call and settled with its outcome:
- a situation change (`products.soldout`): `ProductStockState.intent_situation` / `intent_at`
  / `intent_audit_id`, committed before the call, cleared with the outcome;
- a code (`products.codes`): the `CodeAssignment` (`reserved`) and its write claim
  (`write_claimed_until`), taken before the PATCH, released with the outcome.

A process killed between the call and the outcome leaves them open. Recovery (the minute
tick, a starting cluster, `process_events`: `webhooks.recovery`) settles each one whose
claim has expired by reading Bling, never by guessing:
- situation: the product shows the situation we were writing -> it is recorded as ours
  (a deactivation: `deactivated_by_blingsync`, so the restock reactivates it) and its audit
  line ends applied; it does not -> the intent is cleared and its audit line ends failed;
- code: the product holds the code -> the assignment is applied and its audit line ends
  applied; it holds another code -> the assignment is discarded (as `code_reconcile` does);
  it holds none -> the claim is released (the code stays the product's, `reserved`: the
  product's event or the next code sweep writes it) and the audit line ends failed; a
  product Bling no longer has (404) -> discarded.

Reads only: `GET /produtos?idsProdutos[]` per 100 (each stock state), the detail of a
product those do not show. Nothing is written to Bling here.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.utils import timezone

from blingsync.audit import audit_complete
from blingsync.bling import catalog
from blingsync.bling.errors import BlingNotFound
from blingsync.bling.types import BlingProduct, ProductSituation
from blingsync.models import AuditLog
from products.models import CodeAssignment, ProductStockState

logger = logging.getLogger(__name__)

# An intent younger than this may still belong to a live process waiting for Bling's answer
# (one call with its retries); older, its process is gone.
INTENT_EXPIRES = timedelta(minutes=2)
ID_BATCH = 100

Status = CodeAssignment.Status


def _products_read(product_ids: list[int]) -> dict[int, BlingProduct | None]:
    """id -> the product as Bling shows it now, or None when Bling no longer has it."""
    found: dict[int, BlingProduct | None] = {}
    for start in range(0, len(product_ids), ID_BATCH):
        chunk = product_ids[start : start + ID_BATCH]
        listed = catalog.products_by_ids(product_ids=chunk, criterio=catalog.PRODUCTS_ALL)
        for pid in chunk:
            product = listed.get(pid)
            if product is None:
                try:
                    product = catalog.product_get(product_id=pid)
                except BlingNotFound:
                    product = None
            found[pid] = product
    return found


def _audit_settle(audit_id: int | None, *, ok: bool, error: str = "", after=None) -> None:
    if audit_id is None:
        return
    entry = AuditLog.objects.filter(pk=audit_id, outcome=AuditLog.Outcome.PENDING).first()
    if entry is not None:
        audit_complete(entry, ok=ok, error=error, after=after)


def stock_intents_settle(*, now: datetime | None = None) -> dict[str, int]:
    """Settle situation writes whose intent expired, by reading Bling. Returns counts:
    {"applied": ..., "not_applied": ...}."""
    now = now or timezone.now()
    rows = list(
        ProductStockState.objects.filter(intent_at__lte=now - INTENT_EXPIRES)
        .exclude(intent_situation="")
        .values_list("bling_product_id", "intent_situation", "intent_at", "intent_audit_id")
    )
    counts = {"applied": 0, "not_applied": 0}
    if not rows:
        return counts
    products = _products_read([pid for pid, _s, _at, _a in rows])
    for pid, situation, intent_at, audit_id in rows:
        product = products.get(pid)
        # Conditional on the intent read: a newer one (a live process) is left alone.
        row = ProductStockState.objects.filter(
            bling_product_id=pid, intent_situation=situation, intent_at=intent_at
        )
        clear = {"intent_situation": "", "intent_at": None, "intent_audit_id": None}
        if product is not None and product.situation == situation:
            if situation == ProductSituation.INACTIVE:
                done = row.update(
                    situation=ProductSituation.INACTIVE,
                    deactivated_by_blingsync=True,
                    deactivated_at=intent_at,
                    **clear,
                )
            else:
                done = row.update(
                    situation=ProductSituation.ACTIVE,
                    deactivated_by_blingsync=False,
                    reactivated_at=intent_at,
                    sold_out_since=None,
                    **clear,
                )
            if done:
                counts["applied"] += 1
                _audit_settle(
                    audit_id,
                    ok=True,
                    after={"situacao": situation, "confirmado_por": "recuperação"},
                )
            continue
        done = row.update(**clear)
        if done:
            counts["not_applied"] += 1
            shown = product.situation if product is not None else "não encontrado"
            _audit_settle(
                audit_id,
                ok=False,
                error=(
                    "não aplicada: o processo parou antes do resultado e o Bling mostra o "
                    f"produto com situação {shown}"
                ),
            )
    if any(counts.values()):
        logger.warning("settled open situation writes by reading Bling: %s", counts)
    return counts


def code_claims_settle(*, now: datetime | None = None) -> dict[str, int]:
    """Settle code writes whose claim expired (`reserved`, claimed, its process gone) by
    reading Bling. Returns counts: {"applied", "released", "discarded"}."""
    now = now or timezone.now()
    open_claims = list(
        CodeAssignment.objects.filter(status=Status.RESERVED, write_claimed_until__lte=now)
    )
    counts = {"applied": 0, "released": 0, "discarded": 0}
    if not open_claims:
        return counts
    products = _products_read([a.bling_product_id for a in open_claims])
    for assignment in open_claims:
        product = products.get(assignment.bling_product_id)
        row = CodeAssignment.objects.filter(
            pk=assignment.pk,
            status=Status.RESERVED,
            write_claimed_until=assignment.write_claimed_until,
        )
        entries = AuditLog.objects.filter(
            action=AuditLog.Action.CODE_ASSIGNED,
            bling_product_id=assignment.bling_product_id,
            code=assignment.code,
            outcome=AuditLog.Outcome.PENDING,
            dry_run=False,
        )
        held = product.code.strip() if product is not None else ""
        if product is not None and held == assignment.code:
            if row.update(status=Status.APPLIED, applied_at=now, write_claimed_until=None):
                counts["applied"] += 1
                for entry in entries:
                    audit_complete(entry, ok=True, after={"codigo": assignment.code})
        elif product is None or product.situation == ProductSituation.EXCLUDED or held:
            error = (
                f"o produto recebeu outro código: {held}"
                if held
                else "produto não encontrado (ou excluído) no Bling"
            )
            if row.update(status=Status.DISCARDED, error=error, write_claimed_until=None):
                counts["discarded"] += 1
                for entry in entries:
                    audit_complete(entry, ok=False, error=error)
        elif row.update(write_claimed_until=None, error="escrita interrompida; será refeita"):
            counts["released"] += 1
            for entry in entries:
                audit_complete(
                    entry,
                    ok=False,
                    error="não aplicado: o processo parou antes do resultado e o Bling mostra "
                    "o produto sem código; o mesmo código será escrito de novo",
                )
    if any(counts.values()):
        logger.warning("settled open code writes by reading Bling: %s", counts)
    return counts


def write_intents_settle(*, now: datetime | None = None) -> dict[str, int]:
    """Settle every expired write intent (situations and codes) by reading Bling."""
    now = now or timezone.now()
    situations = stock_intents_settle(now=now)
    codes = code_claims_settle(now=now)
    return {
        "situations_applied": situations["applied"],
        "situations_not_applied": situations["not_applied"],
        "codes_applied": codes["applied"],
        "codes_released": codes["released"],
        "codes_discarded": codes["discarded"],
    }
