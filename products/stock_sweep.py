"""The stock sweep (job kind `stock`, `python manage.py sweep_stock`): sold-out candidates and
reactivation candidates, listed with filters instead of one call per product.

Calls it makes, and nothing else:
- deactivation candidates: `GET /produtos?criterio=2&filtroSaldoEstoque=0` (and `=2`,
  negative: oversold products are sold out too) per mirrored category whose effective rule
  deactivates sold-out products, deepest categories first. A category that keeps its products
  (e.g. SubMaquina) below one that does not is listed too and its products set aside, in case
  Bling's `idCategoria` also returns subcategories' products (UNCONFIRMED);
  Complete by construction: zero and negative are exactly the sold-out states, asked
  explicitly (never Bling's default, which is positive only), with
  `filtroSaldoEstoqueDeposito` when staff chose a deposit, so the listing judges by the
  same stock as the rule;
- reactivation candidates: the products blingsync deactivated (`ProductStockState`), asked in
  groups of 100 with `idsProdutos[]&criterio=3&filtroSaldoEstoque=1` (positive: exactly the
  restocked ones); the same groups with `criterio=2` and each stock state (1, 0, 2: someone
  may reactivate a product that is still sold out) find the ones someone reactivated by
  hand, which stop being blingsync's;
- kits (compositions): `GET /produtos?tipo=E&criterio=5` for each stock state (0, 1, 2), then
  the detail of each composition not mirrored yet and of each composition among the
  candidates (a virtual kit is judged by its parts), each at most once per run
  (`products.kits`); the balances of virtual kits' parts, 100 per `GET /estoques/saldos`;
- balances of every candidate, 100 per `GET /estoques/saldos` (the deposit staff chose, if
  any), so the rule counts the same stock as `product_stock_evaluate`. Complete:
  `catalog.stock_balances` asks each stock state (first the one the candidate was listed
  with, candidates being batched by it: one call per 100 when nothing moved), since an
  unfiltered answer leaves zero and negative balances out and a product zero in the chosen deposit would otherwise be judged by its list item's total;
- the writes: one `PATCH /produtos/{id}/situacoes` for a single product, else one
  `POST /produtos/situacoes` per 100.

`since` filters the candidate lists by `dataAlteracaoInicial` only when it is asked for
explicitly (`--since`, or a rerun of a run that had one): whether a stock change moves a
product's `dataAlteracao` is UNCONFIRMED, so by default every candidate is listed (the kind
is registered with `incremental=False`: the runner's cursor is "completa" unless a `since`
was asked, and the run's details say so).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from blingsync.bling import catalog
from blingsync.bling.catalog import (
    EVERY_STOCK_STATE,
    PRODUCTS_ACTIVE,
    PRODUCTS_INACTIVE,
    STOCK_NEGATIVE,
    STOCK_POSITIVE,
    STOCK_ZERO,
)
from blingsync.bling.types import BlingProduct, ProductFormat, ProductSituation
from blingsync.connection import connection_require
from blingsync.jobrunner import JobContext, register_job
from blingsync.models import RuntimeSettings
from products.kits import compositions_listed, compositions_read, compositions_unmirrored
from products.models import PlanItem, ProductStockState
from products.plans import PlanRecorder
from products.selectors import category_nodes_load, category_rule_effective
from products.soldout import (
    BATCH_SIZE,
    SoldOutCandidate,
    SoldOutResult,
    products_deactivated_by_blingsync,
    soldout_process,
)
from products.soldout_rules import Verdict

logger = logging.getLogger(__name__)

# The stock states candidates are listed with, in the order their balances are asked.
CANDIDATE_STOCK_ORDER = (STOCK_ZERO, STOCK_NEGATIVE, STOCK_POSITIVE)


@dataclass
class StockSweepSummary:
    list_pages: int = 0
    balance_batches: int = 0
    writes: int = 0
    candidates: int = 0
    composition_details: int = 0
    verdicts: Counter = field(default_factory=Counter)
    rules: Counter = field(default_factory=Counter)
    errors: int = 0


@register_job("stock", incremental=False)
def stock_sweep_job(ctx: JobContext) -> None:
    stock_sweep(ctx=ctx)


def stock_sweep(*, ctx: JobContext) -> StockSweepSummary:
    """Find sold-out and restocked candidates, decide, apply; counts go to the run."""
    connection_require()  # a sweep that cannot reach Bling must say so, not "0 seen"
    settings_row = RuntimeSettings.load()
    deposit_id = settings_row.stock_deposit_id
    page_size = settings_row.sweep_page_size or 100
    since = ctx.since  # only an explicit --since (the kind is not incremental)
    summary = StockSweepSummary()
    read_at = timezone.now()
    # A simulation keeps its would-be changes as a plan (products.plans).
    plan = PlanRecorder.start(ctx.run, kind="stock") if ctx.dry_run else None
    # product id -> (product, category listed under, stock state it was listed with)
    found: dict[int, tuple[BlingProduct, int | None, int]] = {}

    ctx.progress(0, None, "listando candidatos a inativar")
    allowing, guards = _categories_to_list()
    if not allowing:
        ctx.note("warning", "nenhuma categoria espelhada inativa esgotados: rode sync_categories")
    set_aside: set[int] = set()
    for category_id in guards:
        for product, _state in _sold_out_listed(summary, category_id, page_size, since, deposit_id):
            set_aside.add(product.id)
    for category_id in allowing:
        for product, state in _sold_out_listed(summary, category_id, page_size, since, deposit_id):
            if product.id not in set_aside and product.id not in found:
                found[product.id] = (product, category_id, state)

    ctx.progress(len(found), None, "listando candidatos a reativar")
    for product in _restocked_listed(summary, page_size, deposit_id, read_at):
        found.setdefault(product.id, (product, None, STOCK_POSITIVE))

    candidates = list(found.values())
    if ctx.limit:
        candidates = candidates[: int(ctx.limit)]
    summary.candidates = len(candidates)
    _compositions_refresh(ctx, summary, [c[0] for c in candidates], page_size, since)
    total = len(candidates)
    done = 0
    ctx.progress(0, total, "avaliando")
    for chunk, states in _balance_batches(candidates):
        ids = [product.id for product, _, _ in chunk]
        balances = {
            b.product_id: b.available_total
            for b in catalog.stock_balances(
                product_ids=ids, deposit_id=deposit_id, stock_states=states
            )
        }
        summary.balance_batches += 1
        batch = [
            SoldOutCandidate(
                product=product,
                available=balances.get(product.id, product.available_stock or Decimal(0)),
                category_id=category_id,
                read_at=read_at,
            )
            for product, category_id, _ in chunk
        ]
        results = soldout_process(candidates=batch, dry_run=ctx.dry_run, settings_row=settings_row)
        _count(ctx, summary, results)
        if plan is not None:
            _plan_record(plan, batch, results)
        done += len(chunk)
        ctx.progress(done, total, "avaliando")

    ctx.note("list_pages", summary.list_pages)
    ctx.note("balance_batches", summary.balance_batches)
    ctx.note("writes", summary.writes)
    ctx.note("verdicts", dict(summary.verdicts))
    ctx.note("rules", dict(summary.rules))
    if plan is not None:
        plan.finish()
    return summary


def _category_label(nodes: dict, category_id: int | None) -> str:
    node = nodes.get(category_id or 0)
    return node.label if node is not None else ""


def _plan_record(
    plan: PlanRecorder, batch: list[SoldOutCandidate], results: list[SoldOutResult]
) -> None:
    """A simulation's would-be changes become plan items; the rest is left alone."""
    nodes = category_nodes_load()
    for candidate, result in zip(batch, results, strict=True):
        product = candidate.product
        if result.verdict in (Verdict.DEACTIVATE, Verdict.REACTIVATE) and not result.error:
            deactivate = result.verdict == Verdict.DEACTIVATE
            plan.item(
                action=PlanItem.Action.DEACTIVATE if deactivate else PlanItem.Action.REACTIVATE,
                product_id=product.id,
                parent_id=product.parent_id,
                name=product.name,
                code=product.code,
                proposed=ProductSituation.INACTIVE if deactivate else ProductSituation.ACTIVE,
                reason=result.reason,
                reason_rule=f"soldout.{result.rule}",
                facts={
                    **result.facts,
                    "situation_seen": product.situation,
                    "available_seen": str(candidate.available),
                },
                category_id=candidate.category_id,
                category_name=_category_label(nodes, candidate.category_id),
            )
        else:
            plan.left_alone(
                product_id=product.id,
                name=product.name,
                code=product.code,
                reason_key=result.rule,
                reason=result.reason,
            )


def _compositions_refresh(
    ctx: JobContext,
    summary: StockSweepSummary,
    candidates: list[BlingProduct],
    page_size: int,
    since: datetime | None,
) -> None:
    """Mirror the kits this run needs before any is judged: the ones never mirrored (their
    sales may be sales of a candidate's parts) and the kits among the candidates."""
    ctx.progress(0, None, "lendo kits (composições)")
    listed, pages = compositions_listed(page_size=page_size, changed_since=since)
    summary.list_pages += pages
    wanted = compositions_unmirrored(product_ids=listed)
    wanted |= {product.id for product in candidates if product.format == ProductFormat.COMPOSITION}
    summary.composition_details = compositions_read(product_ids=wanted)
    ctx.note("composition_details", summary.composition_details)


def _balance_batches(
    candidates: list[tuple[BlingProduct, int | None, int]],
) -> Iterator[tuple[list[tuple[BlingProduct, int | None, int]], tuple[int, ...]]]:
    """Batches of up to 100 candidates listed with the same stock state, each with the order
    to ask the balance states in: that state first (one call per batch when the stock did not
    move since the listing), then the others (complete whatever it moved to)."""
    for state in CANDIDATE_STOCK_ORDER:
        group = [c for c in candidates if c[2] == state]
        order = (state, *(s for s in CANDIDATE_STOCK_ORDER if s != state))
        for start in range(0, len(group), BATCH_SIZE):
            yield group[start : start + BATCH_SIZE], order


def _categories_to_list() -> tuple[list[int], list[int]]:
    """(categories whose sold-out products are deactivated, deepest first; categories that
    keep theirs but sit below one of those)."""
    nodes = category_nodes_load()
    allowing: list[tuple[int, int]] = []
    guards: list[int] = []
    rules = {
        node.id: category_rule_effective(category_id=node.id, nodes=nodes).deactivate_when_sold_out
        for node in nodes.values()
        if not node.removed
    }
    for category_id, allows in rules.items():
        depth, ancestors = 0, []
        parent = nodes[category_id].parent_id
        while parent and parent in nodes and depth < 50:
            ancestors.append(parent)
            parent = nodes[parent].parent_id
            depth += 1
        if allows:
            allowing.append((depth, category_id))
        elif any(rules.get(a) for a in ancestors):
            guards.append(category_id)
    allowing.sort(key=lambda item: (-item[0], item[1]))
    return [category_id for _, category_id in allowing], sorted(guards)


def _pages(summary: StockSweepSummary, page_size: int, **filters) -> Iterator[BlingProduct]:
    page = 1
    while True:
        items = catalog.products_page(page=page, page_size=page_size, **filters)
        summary.list_pages += 1
        yield from items
        if len(items) < page_size:
            return
        page += 1


def _sold_out_listed(
    summary: StockSweepSummary, category_id: int, page_size: int, since, deposit_id
) -> Iterator[tuple[BlingProduct, int]]:
    """(product, the stock state it was listed with): the category's active products with
    zero or negative stock, i.e. every sold-out one (both states asked explicitly)."""
    for stock_filter in (STOCK_ZERO, STOCK_NEGATIVE):
        for product in _pages(
            summary,
            page_size,
            criterio=PRODUCTS_ACTIVE,
            category_id=category_id,
            stock_filter=stock_filter,
            changed_since=since,
            deposit_id=deposit_id,
        ):
            yield product, stock_filter


def _restocked_listed(
    summary: StockSweepSummary, page_size: int, deposit_id: int | None, read_at: datetime
) -> Iterator[BlingProduct]:
    ids = products_deactivated_by_blingsync()
    for start in range(0, len(ids), BATCH_SIZE):
        chunk = ids[start : start + BATCH_SIZE]
        size = max(page_size, len(chunk))
        yield from _pages(
            summary,
            size,
            criterio=PRODUCTS_INACTIVE,
            product_ids=chunk,
            stock_filter=STOCK_POSITIVE,
            deposit_id=deposit_id,
        )
        # Active again although blingsync deactivated them: someone reactivated them by hand,
        # so they are no longer blingsync's to reactivate (or to keep track of). Every stock
        # state: a product reactivated by hand while still sold out counts too.
        reactivated: set[int] = set()
        for stock_filter in EVERY_STOCK_STATE:
            active = _pages(
                summary,
                size,
                criterio=PRODUCTS_ACTIVE,
                product_ids=chunk,
                stock_filter=stock_filter,
            )
            reactivated.update(p.id for p in active)
        if reactivated:
            ProductStockState.objects.filter(bling_product_id__in=reactivated).filter(
                Q(deactivated_at__isnull=True) | Q(deactivated_at__lt=read_at)
            ).update(deactivated_by_blingsync=False, situation=ProductSituation.ACTIVE)


def _count(ctx: JobContext, summary: StockSweepSummary, results: list[SoldOutResult]) -> None:
    written: Counter = Counter()
    for result in results:
        ctx.count("seen")
        summary.verdicts[result.verdict] += 1
        summary.rules[result.rule] += 1
        changes = result.verdict in (Verdict.DEACTIVATE, Verdict.REACTIVATE)
        if result.error:
            ctx.count("errors")
            summary.errors += 1
        elif result.applied or (changes and result.dry_run):
            # A simulation's would-be change is a change (of the plan), never a skip.
            ctx.count("changed")
        else:
            ctx.skip(result.rule)
        if changes and not result.dry_run:
            written[result.verdict] += 1
    # One PATCH for a single product, else one batch per 100 (see soldout._situation_apply).
    summary.writes += sum(-(-n // BATCH_SIZE) for n in written.values())
