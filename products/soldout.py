"""Sold-out products: gather the facts, ask the rule (`products.soldout_rules`), apply it.

Two ways in, one path: `product_stock_evaluate` (one product, re-read from Bling: the
debounced evaluation of `products.stock_evaluations` and the admin's "Reavaliar agora") and
the stock sweep (`products.stock_sweep`: many products, listed with filters) both end in
`soldout_process`, which
- loads each product's evidence from the ledger and its `ProductStockState` in bulk,
- decides with the pure rule,
- writes the situation changes to Bling (one PATCH for a single product, the batch
  `POST /produtos/situacoes` for several, per-item `alertas` recorded as failures), each
  audited before the call (pending) and completed after it,
- remembers the decision in `ProductStockState` (and audits `sold_out_kept` when a sold-out
  product is kept for a new reason, not on every evaluation, to keep the log readable).

Dry-run (decided by the caller's entry point, `runtime.run_mode_resolve`: asked for, or the
installation's mode): everything is computed and the changes are audited as "would do";
nothing is written to Bling and `ProductStockState` is left as it was (so a later live run
decides from the same state).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from blingsync.audit import audit_begin, audit_complete, audit_record
from blingsync.bling import catalog
from blingsync.bling.errors import (
    BlingAuthError,
    BlingError,
    BlingNotConnected,
    BlingNotFound,
    BlingRateLimited,
    BlingUnavailable,
)
from blingsync.bling.types import BlingProduct, ProductFormat, ProductSituation
from blingsync.models import AuditLog, RuntimeSettings
from products.kits import composition_mirror, kit_part_sales, virtual_kits_load
from products.models import Composition, ProductStockState, SaleLine, StockMovement
from products.selectors import category_nodes_load, category_rule_effective
from products.soldout_rules import (
    KitFacts,
    KitPart,
    Movement,
    Sale,
    SoldOutDecision,
    SoldOutFacts,
    Verdict,
    kit_decide,
    sold_out_decide,
)

logger = logging.getLogger(__name__)

BATCH_SIZE = 100
# Evidence older than this is not loaded: the anchor (last entry or positive balance) of a
# product that sells is far more recent, and a year-old sale proves nothing about today.
EVIDENCE_WINDOW = timedelta(days=400)
NOT_FOUND = "not_found"
_CHANGES = (Verdict.DEACTIVATE, Verdict.REACTIVATE)


@dataclass(frozen=True)
class SoldOutCandidate:
    """A product as read from Bling, with the available stock the rule should count."""

    product: BlingProduct
    available: Decimal
    category_id: int | None
    # When the product was read from Bling (before the call): see `_state_save`.
    read_at: datetime = field(default_factory=timezone.now)


@dataclass(frozen=True)
class SoldOutResult:
    product_id: int
    verdict: str
    rule: str
    reason: str
    dry_run: bool
    applied: bool = False  # the situation change was written to Bling
    error: str = ""
    situation_before: str = ""
    situation_after: str = ""
    # What the rule decided on (audit `reason_data`): kept with a simulation's plan.
    facts: dict = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return self.verdict in (Verdict.DEACTIVATE, Verdict.REACTIVATE) and not self.error


@dataclass
class _Pending:
    candidate: SoldOutCandidate
    decision: SoldOutDecision
    state: ProductStockState
    entry: AuditLog | None = None
    error: str = ""


def product_stock_evaluate(*, product_id: int, dry_run: bool) -> SoldOutResult:
    """Re-read one product from Bling, decide with the sold-out rule and apply the verdict."""
    settings_row = RuntimeSettings.load()
    read_at = timezone.now()
    try:
        product = catalog.product_get(product_id=product_id)
    except BlingNotFound:
        return SoldOutResult(
            product_id, Verdict.KEEP, NOT_FOUND, "produto não encontrado no Bling", dry_run
        )
    if product.format == ProductFormat.COMPOSITION:
        composition_mirror(product=product)  # the detail carries the kit's estrutura
    available = product.available_stock
    if settings_row.stock_deposit_id or available is None:
        # Complete: stock_balances asks every stock state (Bling's default would leave a zero
        # balance out, and a sold-out product look unknown).
        balances = catalog.stock_balances(
            product_ids=[product_id], deposit_id=settings_row.stock_deposit_id
        )
        available = balances[0].available_total if balances else Decimal(0)
    category_id = product.category_id
    if not category_id and product.parent_id:
        # Variations follow their parent's category.
        category_id = catalog.product_get(product_id=product.parent_id).category_id
    candidate = SoldOutCandidate(
        product=product, available=available, category_id=category_id, read_at=read_at
    )
    return soldout_process(candidates=[candidate], dry_run=dry_run, settings_row=settings_row)[0]


def soldout_process(
    *,
    candidates: Sequence[SoldOutCandidate],
    dry_run: bool,
    settings_row: RuntimeSettings | None = None,
    now: datetime | None = None,
    verdicts_allowed: Mapping[int, str] | None = None,
) -> list[SoldOutResult]:
    """Decide and apply the rule for `candidates` (results in the same order).

    `verdicts_allowed` (applying a plan): product id -> the one change staff approved for it;
    a product whose verdict now is another change (or has no entry) is decided but not
    written (its result says `applied=False` with the verdict reached now)."""
    if not candidates:
        return []
    settings_row = settings_row or RuntimeSettings.load()
    now = now or timezone.now()
    ids = [c.product.id for c in candidates]
    states = _states_load(ids)
    movements, sales = _evidence_load(ids, deposit_id=settings_row.stock_deposit_id, now=now)
    nodes = category_nodes_load()
    # Virtual kits are judged by their parts (a physical kit like any product).
    kits = virtual_kits_load(
        product_ids=[
            c.product.id for c in candidates if c.product.format == ProductFormat.COMPOSITION
        ]
    )
    names = {c.product.id: c.product.name for c in candidates if c.product.name}
    kit_parts = _kit_parts_load(
        kits, deposit_id=settings_row.stock_deposit_id, now=now, names=names
    )
    pending: list[_Pending] = []
    for candidate in candidates:
        pid = candidate.product.id
        state = states.get(pid) or ProductStockState(bling_product_id=pid)
        allows, category_facts = _category_allows(candidate.category_id, nodes)
        if pid in kits:
            kit_facts = KitFacts(
                situation=candidate.product.situation,
                available_stock=candidate.available,
                now=now,
                parts=kit_parts.get(pid, ()),
                category_allows=allows,
                category=category_facts,
                deactivated_by_blingsync=state.deactivated_by_blingsync,
                grace_minutes=settings_row.sold_out_grace_minutes,
                sold_out_since=state.sold_out_since,
                last_deactivated_at=state.deactivated_at,
                tz=timezone.get_current_timezone(),
            )
            pending.append(_Pending(candidate, kit_decide(kit_facts), state))
            continue
        facts = SoldOutFacts(
            situation=candidate.product.situation,
            available_stock=candidate.available,
            now=now,
            category_allows=allows,
            category=category_facts,
            movements=movements.get(pid, ()),
            sales=sales.get(pid, ()),
            deactivated_by_blingsync=state.deactivated_by_blingsync,
            grace_minutes=settings_row.sold_out_grace_minutes,
            sold_out_since=state.sold_out_since,
            last_positive_at=state.last_positive_at,
            last_positive_stock=state.last_positive_stock,
            has_variations=(
                candidate.product.format == ProductFormat.WITH_VARIATIONS
                or bool(candidate.product.variations)
            ),
            last_deactivated_at=state.deactivated_at,
            tz=timezone.get_current_timezone(),
        )
        pending.append(_Pending(candidate, sold_out_decide(facts), state))

    try:
        for verdict, situation in (
            (Verdict.DEACTIVATE, ProductSituation.INACTIVE),
            (Verdict.REACTIVATE, ProductSituation.ACTIVE),
        ):
            group = [
                p
                for p in pending
                if p.decision.verdict == verdict
                and (
                    verdicts_allowed is None
                    or verdicts_allowed.get(p.candidate.product.id) == verdict
                )
            ]
            if group:
                _situation_apply(group, situation=situation, dry_run=dry_run)
    finally:
        # Also when Bling stopped answering half-way: what was written must be remembered
        # (a product blingsync deactivated is one it may reactivate). Changes never tried
        # are not recorded at all; the next evaluation decides them again.
        if not dry_run:
            for item in pending:
                if item.decision.verdict in _CHANGES and item.entry is None:
                    continue
                _state_save(item, now=now)
    return [_result(item, dry_run=dry_run) for item in pending]


def _result(item: _Pending, *, dry_run: bool) -> SoldOutResult:
    before = item.candidate.product.situation
    after = before
    changes = item.decision.verdict in (Verdict.DEACTIVATE, Verdict.REACTIVATE)
    if changes and not item.error:
        after = (
            ProductSituation.INACTIVE
            if item.decision.verdict == Verdict.DEACTIVATE
            else ProductSituation.ACTIVE
        )
    return SoldOutResult(
        product_id=item.candidate.product.id,
        verdict=str(item.decision.verdict),
        rule=str(item.decision.rule),
        reason=item.decision.reason,
        dry_run=dry_run,
        applied=changes and not dry_run and item.entry is not None and not item.error,
        error=item.error,
        situation_before=before,
        situation_after=after if not dry_run and item.entry is not None else before,
        facts=dict(item.decision.facts),
    )


# ---------------------------------------------------------------- applying


def _situation_apply(group: list[_Pending], *, situation: str, dry_run: bool) -> None:
    """Audit (intent), write to Bling, audit (outcome), 100 products at a time.

    A product Bling refuses (an error for that call or an `alerta` for that product) is
    recorded as failed and the others go on. When Bling cannot be used at all (not connected,
    daily limit, unavailable) the chunk is recorded as failed and the error propagates: the
    sweep stops, the webhook evaluation is retried later.
    """
    action = (
        AuditLog.Action.PRODUCT_DEACTIVATED
        if situation == ProductSituation.INACTIVE
        else AuditLog.Action.PRODUCT_REACTIVATED
    )
    for start in range(0, len(group), BATCH_SIZE):
        chunk = group[start : start + BATCH_SIZE]
        for item in chunk:
            product = item.candidate.product
            item.entry = audit_begin(
                action=action,
                dry_run=dry_run,
                bling_product_id=product.id,
                code=product.code,
                product_name=product.name,
                product_code=product.code,
                before={"situacao": product.situation, "saldo": str(item.candidate.available)},
                after={"situacao": situation},
                reason=item.decision.reason,
                reason_rule=f"soldout.{item.decision.rule}",
                reason_data=item.decision.facts,
            )
        if dry_run:
            continue
        try:
            errors = _situation_write([p.candidate.product.id for p in chunk], situation=situation)
        except BlingError as exc:
            for item in chunk:
                item.error = f"{type(exc).__name__}: {exc}"
                if item.entry is not None:
                    audit_complete(item.entry, ok=False, error=item.error)
            raise
        for item in chunk:
            item.error = errors.get(item.candidate.product.id, "")
            if item.entry is not None:
                audit_complete(item.entry, ok=not item.error, error=item.error)
            if item.error:
                logger.warning(
                    "situation %s for product %s failed: %s",
                    situation,
                    item.candidate.product.id,
                    item.error,
                )


_SYSTEMIC = (BlingNotConnected, BlingRateLimited, BlingUnavailable, BlingAuthError)


def _situation_write(product_ids: list[int], *, situation: str) -> dict[int, str]:
    """Write one situation to Bling for `product_ids`; returns {product id: error}.

    Errors about the request itself are returned per product; the ones that mean Bling
    cannot be used now (`_SYSTEMIC`) are raised.
    """
    try:
        if len(product_ids) == 1:
            catalog.product_situation_set(product_id=product_ids[0], situation=situation)
            return {}
        alerts = catalog.products_situation_set(product_ids=product_ids, situation=situation)
    except _SYSTEMIC:
        raise
    except BlingError as exc:
        error = f"{type(exc).__name__}: {exc}"
        return {pid: error for pid in product_ids}
    return {alert.product_id: f"{alert.error_type}: {alert.message}" for alert in alerts}


def products_situation_write(*, product_ids: list[int], situation: str) -> dict[int, str]:
    """Write one situation for `product_ids` (one PATCH, or a batch per call; the caller
    chunks by 100 and audits): {product id: error} for the ones Bling refused."""
    return _situation_write(product_ids, situation=situation)


def _state_save(item: _Pending, *, now: datetime) -> None:
    """Remember the decision. Who-deactivated-it is changed only by conditional updates: a
    webhook evaluation and the sweep may decide about the same product at once, and a process
    that read the product before the other one deactivated it must not clear the mark."""
    decision, candidate = item.decision, item.candidate
    product = candidate.product
    previous = (item.state.last_verdict, item.state.last_rule)
    values: dict[str, object] = {
        "name": product.name[:200],
        "code": product.code[:60],
        "situation": product.situation,
        "available_stock": candidate.available,
        "sold_out_since": decision.sold_out_since,
        "last_verdict": str(decision.verdict),
        "last_rule": str(decision.rule),
        "last_reason": decision.reason,
        "last_reason_data": decision.facts,
        "last_evaluated_at": now,
        "last_dry_run": False,
    }
    if candidate.category_id:
        values["category_id"] = candidate.category_id
    if candidate.available > 0:
        values["last_positive_at"] = now
        values["last_positive_stock"] = candidate.available
    done = not item.error
    if done and decision.verdict == Verdict.DEACTIVATE:
        values.update(
            situation=ProductSituation.INACTIVE, deactivated_by_blingsync=True, deactivated_at=now
        )
    elif done and decision.verdict == Verdict.REACTIVATE:
        values.update(
            situation=ProductSituation.ACTIVE,
            deactivated_by_blingsync=False,
            reactivated_at=now,
            sold_out_since=None,
        )
    row, created = ProductStockState.objects.get_or_create(
        bling_product_id=product.id, defaults=values
    )
    rows = ProductStockState.objects.filter(pk=row.pk)
    if not created:
        rows.update(**values)
    if product.situation == ProductSituation.ACTIVE and "deactivated_by_blingsync" not in values:
        # Active although blingsync had deactivated it: someone reactivated it in Bling, and
        # from now on it is an ordinary active product (unless blingsync deactivated it again
        # after this process read it).
        rows.filter(deactivated_by_blingsync=True).filter(
            Q(deactivated_at__isnull=True) | Q(deactivated_at__lt=candidate.read_at)
        ).update(deactivated_by_blingsync=False)
    kept_sold_out = (
        product.situation == ProductSituation.ACTIVE
        and candidate.available <= 0
        and decision.verdict in (Verdict.KEEP, Verdict.WAIT_GRACE)
    )
    if kept_sold_out and previous != (str(decision.verdict), str(decision.rule)):
        audit_record(
            action=AuditLog.Action.SOLD_OUT_KEPT,
            bling_product_id=product.id,
            code=product.code,
            product_name=product.name,
            product_code=product.code,
            before={"situacao": product.situation, "saldo": str(candidate.available)},
            after={"situacao": product.situation, "regra": str(decision.rule)},
            reason=decision.reason,
            reason_rule=f"soldout.{decision.rule}",
            reason_data=decision.facts,
        )


# ---------------------------------------------------------------- loading


def _states_load(ids: Iterable[int]) -> dict[int, ProductStockState]:
    return {
        s.bling_product_id: s for s in ProductStockState.objects.filter(bling_product_id__in=ids)
    }


def _evidence_load(
    ids: Sequence[int], *, deposit_id: int | None, now: datetime
) -> tuple[dict[int, list[Movement]], dict[int, list[Sale]]]:
    cutoff = now - EVIDENCE_WINDOW
    movements: dict[int, list[Movement]] = defaultdict(list)
    rows = StockMovement.objects.filter(bling_product_id__in=ids, occurred_at__gte=cutoff)
    if deposit_id:
        # Staff count one deposit: only its movements tell its story.
        rows = rows.filter(deposit_id=deposit_id)
    for row in rows.order_by("occurred_at", "id"):
        balance = row.deposit_virtual if deposit_id else row.virtual_total
        movements[row.bling_product_id].append(
            Movement(
                at=row.occurred_at, operation=row.operation, quantity=row.quantity, balance=balance
            )
        )
    sales: dict[int, list[Sale]] = defaultdict(list)
    lines = SaleLine.objects.filter(bling_product_id__in=ids, order_date__gte=cutoff.date())
    for line in lines.order_by("order_date", "order_id", "line"):
        sales[line.bling_product_id].append(_sale(line))
    # A kit that posts its sales on its parts sold its parts (times their quantity in it).
    for kit_line in kit_part_sales(part_ids=ids, since=cutoff.date()):
        sales[kit_line.part_id].append(
            _sale(kit_line.line, quantity=kit_line.quantity, kit_name=kit_line.kit_name)
        )
    # Kit lines included: a kit sold by an order and by the NF-e issued from it is one sale.
    invoice_ids = {
        sale.order_id
        for product_sales in sales.values()
        for sale in product_sales
        if sale.source != SaleLine.Source.ORDER
    }
    links = dict(
        SaleLine.objects.filter(order_id__in=invoice_ids, sale_order_id__isnull=False)
        .exclude(source=SaleLine.Source.ORDER)
        .values_list("order_id", "sale_order_id")
    )
    for product_id, product_sales in sales.items():
        sales[product_id] = sales_one_per_sale(sales=product_sales, order_of_invoice=links)
    return movements, sales


def sales_one_per_sale(
    *, sales: list[Sale], order_of_invoice: Mapping[int, int | None]
) -> list[Sale]:
    """An order and the invoice issued from it are one sale: within such a pair (or any
    group sharing one order) one document counts, the order when it counts, else the
    counted document with the largest quantity; the others are kept, marked `same_sale_as`,
    and not counted."""

    def key(sale: Sale) -> tuple[str, int]:
        if sale.source == SaleLine.Source.ORDER:
            return ("order", sale.order_id)
        order_id = order_of_invoice.get(sale.order_id)
        return ("order", order_id) if order_id else (sale.source, sale.order_id)

    groups: dict[tuple[str, int], list[Sale]] = defaultdict(list)
    for sale in sales:
        groups[key(sale)].append(sale)
    out: list[Sale] = []
    for group in groups.values():
        documents = {(s.source, s.order_id) for s in group}
        if len(documents) == 1:
            out.extend(group)
            continue
        counted: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
        for s in group:
            if s.counted:
                counted[(s.source, s.order_id)] += s.quantity
        keeper = None
        if counted:
            keeper = max(counted, key=lambda doc: (doc[0] == "order", counted[doc]))
        keeper_label = next((s.document for s in group if (s.source, s.order_id) == keeper), "")
        for s in group:
            if keeper is None or (s.source, s.order_id) == keeper:
                out.append(s)
            else:
                out.append(replace(s, counted=False, same_sale_as=keeper_label))
    out.sort(key=lambda s: (s.day, s.order_id))
    return out


def _sale(line: SaleLine, *, quantity: Decimal | None = None, kit_name: str = "") -> Sale:
    return Sale(
        order_id=line.order_id,
        order_number=line.order_number,
        day=line.order_date,
        quantity=line.quantity if quantity is None else quantity,
        counted=line.counted,
        seen_at=line.first_seen_at,
        situation_name=line.situation_name,
        kit_name=kit_name,
        source=line.source,
    )


def _kit_parts_load(
    kits: dict[int, Composition],
    *,
    deposit_id: int | None,
    now: datetime,
    names: dict[int, str],
) -> dict[int, list[KitPart]]:
    """Each virtual kit's parts with their own facts: balances (one `GET /estoques/saldos`
    per 100 parts), ledger and sales (theirs and their kits'), what blingsync saw of them.

    A part absent from the balances answer has no positive stock: Bling leaves zero and
    negative balances out when `filtroSaldoEstoque` is not sent."""
    part_ids = sorted({part.bling_product_id for kit in kits.values() for part in kit.parts.all()})
    if not part_ids:
        return {}
    balances, codes = {}, {}
    for b in catalog.stock_balances(product_ids=part_ids, deposit_id=deposit_id):
        balances[b.product_id], codes[b.product_id] = b.available_total, b.code
    movements, sales = _evidence_load(part_ids, deposit_id=deposit_id, now=now)
    states = _states_load(part_ids)
    tz = timezone.get_current_timezone()
    out: dict[int, list[KitPart]] = {}
    for kit_id, kit in kits.items():
        parts = []
        for part in kit.parts.all():
            pid = part.bling_product_id
            state = states.get(pid)
            facts = SoldOutFacts(
                situation=state.situation if state and state.situation else ProductSituation.ACTIVE,
                available_stock=balances.get(pid, Decimal(0)),
                now=now,
                movements=movements.get(pid, ()),
                sales=sales.get(pid, ()),
                last_positive_at=state.last_positive_at if state else None,
                last_positive_stock=state.last_positive_stock if state else None,
                tz=tz,
            )
            known = names.get(pid) or (state and (state.name or state.code)) or codes.get(pid)
            label = known or f"produto {pid}"
            parts.append(KitPart(pid, label, part.quantity, facts))
        out[kit_id] = parts
    return out


def _category_allows(category_id: int | None, nodes: dict) -> tuple[bool, dict]:
    """(allowed, why not as facts: see `SoldOutFacts.category`)."""
    rule = category_rule_effective(category_id=category_id, nodes=nodes)
    if rule.deactivate_when_sold_out:
        return True, {}
    if category_id and not rule.known:
        return False, {"category_id": category_id, "mirrored": False}
    return False, {"category": rule.deactivation_source or "padrão", "mirrored": True}


def products_deactivated_by_blingsync() -> list[int]:
    """Products blingsync deactivated and has not seen reactivated since (reactivation
    candidates)."""
    return list(
        ProductStockState.objects.filter(deactivated_by_blingsync=True)
        .order_by("bling_product_id")
        .values_list("bling_product_id", flat=True)
    )
