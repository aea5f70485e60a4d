"""The code sweep (`sweep_codes`, job kind `codes`): every product without a code gets one.

Calls, in order (the lower bound is list pages + writes; we add the code lookups the spec
requires before writing, and one category list call):
0. The category mirror is refreshed (GET /categorias/produtos, one call per 100 categories),
   so products of a category created since the last `categories` run are coded now.
1. Retry: assignments left `reserved` or `failed` are re-read in batches of 100
   (`catalog.products_by_ids`: `GET /produtos?idsProdutos[]=...` per stock state, complete
   because it asks positive, zero and negative stock) and written again with the same code
   (or settled if Bling already shows a code). One that none of those listings shows is
   confirmed with its detail (`GET /produtos/{id}`, complete by construction) before its
   assignment is discarded: only Bling's 404 (or situação E) discards it.
2. For each mirrored category whose effective rule generates codes (deepest first), list its
   products: `GET /produtos?idCategoria=...&criterio=5&filtroSaldoEstoque=1|0|2`
   (+ `dataAlteracaoInicial` = since), pages of `sweep_page_size` (100). Complete because it
   lists each stock state: omitted, Bling's filter defaults to 1 and a product registered
   before its first stock entry (zero stock, the usual order) would never be listed. List
   items carry no category, so the category we listed is the product's category: no detail
   call per product. A product that shows up under two categories (should Bling's filter
   include subcategories) is decided by the deepest.
3. Products without a code are queued and go through `codes_apply` in batches of 50 (one
   `codigos[]` lookup per batch and stock state, the most codes the client sends in one
   call, then one PATCH each): with 20% of a catalog uncoded that is three lookups per ~2.5
   list pages.

Listings move (bling-v3.md §9b): Bling pages by offset, recomputes every page and does not
document its order; if it orders by last change, a product we code moves to the end of the
listing and every row behind it shifts one place towards the pages already read. So a
category is listed whole first (what is kept is small: the ids seen and the targets, never
the list payloads) and its products are written only after its last page; the writes of one
category cannot shift another category's listing.

Variations. The OpenAPI document says nothing on whether `idCategoria` matches variations;
a variation's detail carries its parent's `categoria`, and list items of variations carry
`idProdutoPai`, so we expect them in the category listing (the fake does this) and decide
them with the category listed, i.e. their parent's rule, at no extra cost. In case the real
API leaves them out, a full sweep (no `since`) reads the detail of each listed parent with
variations (`formato` "V") none of whose variations appeared in the listing: one call per
such parent, never one per product. (Sweeps with `since` skip that fallback: a listed
parent's unchanged variations are legitimately absent then.)

Kits. A listed product of `formato` "E" is a composition: its detail (the `estrutura` list
items lack) is read once at the end of the sweep to mirror it (`products.kits`), at most one
call per composition product per sweep.

`--limit N` caps the number of products given a code (or, in dry-run, that would be).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import cast

from blingsync.bling import catalog
from blingsync.bling.errors import BlingNotFound
from blingsync.bling.types import BlingProduct, ProductFormat, ProductSituation
from blingsync.jobrunner import JobContext, JobStopped, register_job
from blingsync.runtime import runtime_settings_get
from products.category_sync import categories_sync
from products.code_rules import CategoryNode, CodeDecision
from products.codes import (
    ALREADY_CODED,
    CODED,
    FAILED,
    PRODUCT_EXCLUDED,
    PRODUCT_NOT_FOUND,
    SKIPPED,
    WOULD_CODE,
    CodeResult,
    CodeTarget,
    DryRunPeek,
    code_reconcile,
    codes_apply,
)
from products.kits import COMPOSITION, compositions_read
from products.models import Category, CodeAssignment, PlanItem
from products.plans import PlanRecorder
from products.selectors import categories_generating_codes, category_nodes_load

logger = logging.getLogger(__name__)

HAS_CODE = "has_code"
LIMIT_REACHED = "limit_reached"
ID_BATCH = 100
# Products coded per batch: one code-check lookup each (the client asks Bling for up to 50
# codes per call). A product waits at most a couple of list pages for its write.
CODE_BATCH = 50


@dataclass
class _SweepState:
    ctx: JobContext
    peek: DryRunPeek = field(default_factory=DryRunPeek)
    seen_ids: set[int] = field(default_factory=set)
    coded: int = 0
    # listed parents with variations -> their category's decision (for the fallback)
    parents: dict[int, CodeDecision] = field(default_factory=dict)
    listed_variation_parents: set[int] = field(default_factory=set)
    compositions: set[int] = field(default_factory=set)  # listed kits, mirrored at the end
    queue: list[CodeTarget] = field(default_factory=list)
    # A simulation keeps its would-be codes as a plan (products.plans); None when live.
    plan: PlanRecorder | None = None
    # product id -> (category id, category label) it was listed under, for the plan
    categories: dict[int, tuple[int | None, str]] = field(default_factory=dict)

    @property
    def remaining(self) -> int | None:
        """How many more products may be queued for a code (None: no limit)."""
        limit = self.ctx.limit
        return None if limit is None else max(0, int(limit) - self.coded - len(self.queue))

    def record(self, targets: list[CodeTarget], results: list[CodeResult]) -> None:
        """Count `results` (those of `targets` that are final: all, or fewer when the batch
        was stopped half-way) and keep a simulation's would-be codes in its plan."""
        by_id = {target.product_id: target for target in targets}
        for result in results:
            target = by_id[result.product_id]
            if result.outcome in (CODED, WOULD_CODE):
                self.coded += 1
                self.ctx.count("changed")
                if result.outcome == WOULD_CODE:
                    self._plan_code(target, result.code)
            elif result.outcome == ALREADY_CODED:
                self.ctx.skip(HAS_CODE)
            elif result.outcome == SKIPPED:
                self.ctx.skip(result.reason or "skipped")
                self.left_alone(target.product_id, target.name, result.reason or "skipped")
            elif result.outcome == FAILED:
                self.ctx.count("errors")

    def _plan_code(self, target: CodeTarget, code: str) -> None:
        if self.plan is None:
            return
        category_id, category_name = self.categories.get(target.product_id) or (
            self.categories.get(target.parent_id or 0, (None, ""))
        )
        self.plan.item(
            action=PlanItem.Action.CODE_ASSIGN,
            product_id=target.product_id,
            parent_id=target.parent_id,
            name=target.name,
            code="",
            proposed=code,
            prefix=target.prefix,
            reason=target.rule,
            reason_rule=target.reason_rule or "code.retry",
            facts={
                **(target.reason_data or {"code": code, "prefix": target.prefix}),
                "code_seen": "",
                "proposed": code,
            },
            category_id=category_id,
            category_name=category_name,
        )

    def left_alone(self, product_id: int, name: str, reason: str, code: str = "") -> None:
        if self.plan is not None:
            self.plan.left_alone(product_id=product_id, name=name, code=code, reason_key=reason)


def _queue(state: _SweepState, targets: list[CodeTarget]) -> None:
    """Queue `targets` (up to the limit) without writing anything yet."""
    remaining = state.remaining
    if remaining is not None and len(targets) > remaining:
        state.ctx.skip(LIMIT_REACHED, len(targets) - remaining)
        for target in targets[remaining:]:
            state.left_alone(target.product_id, target.name, LIMIT_REACHED)
        targets = targets[:remaining]
    state.queue.extend(targets)


def _apply(state: _SweepState, targets: list[CodeTarget], *, flush: bool = False) -> None:
    """Queue `targets` (up to the limit) and code the queue in batches of CODE_BATCH."""
    _queue(state, targets)
    while len(state.queue) >= CODE_BATCH or (flush and state.queue):
        batch, state.queue = state.queue[:CODE_BATCH], state.queue[CODE_BATCH:]
        done: list[CodeResult] = []
        try:
            codes_apply(targets=batch, dry_run=state.ctx.dry_run, peek=state.peek, done=done)
        finally:
            # Also when the brake (or Bling) stopped the batch half-way: the run's counts
            # say what was done.
            state.record(batch, done)
        state.ctx.progress(len(state.seen_ids), None, "gravando códigos")


def _retry_pending(state: _SweepState) -> None:
    """Write again, with the same code, what an earlier run could not write."""
    pending = list(
        CodeAssignment.objects.filter(status__in=CodeAssignment.PENDING_STATUSES).order_by("id")
    )
    if not pending:
        return
    state.ctx.note("retried", len(pending))
    for start in range(0, len(pending), ID_BATCH):
        if state.remaining == 0:
            return
        batch = pending[start : start + ID_BATCH]
        found = catalog.products_by_ids(
            product_ids=[a.bling_product_id for a in batch], criterio=catalog.PRODUCTS_ALL
        )
        targets = []
        for assignment in batch:
            product = found.get(assignment.bling_product_id) or _product_confirm(
                assignment.bling_product_id
            )
            state.seen_ids.add(assignment.bling_product_id)
            state.ctx.count("seen")
            if product is None or product.situation == ProductSituation.EXCLUDED:
                if not state.ctx.dry_run:
                    CodeAssignment.objects.filter(pk=assignment.pk).update(
                        status=CodeAssignment.Status.DISCARDED,
                        error="produto não encontrado (ou excluído) no Bling",
                    )
                reason = PRODUCT_NOT_FOUND if product is None else PRODUCT_EXCLUDED
                state.ctx.skip(reason)
                name = product.name if product is not None else ""
                state.left_alone(assignment.bling_product_id, name, reason, assignment.code)
            elif product.has_code:
                if not state.ctx.dry_run:
                    code_reconcile(product_id=product.id, code_in_bling=product.code)
                state.ctx.skip(HAS_CODE)
            else:
                targets.append(
                    CodeTarget(
                        assignment.bling_product_id,
                        assignment.prefix,
                        assignment.rule,
                        assignment.parent_product_id,
                        name=product.name,
                    )
                )
        _apply(state, targets)


def _product_confirm(product_id: int) -> BlingProduct | None:
    """The detail of a product the listings did not show (complete by construction: it
    answers whatever the product's stock), or None when Bling answers 404."""
    try:
        return catalog.product_get(product_id=product_id)
    except BlingNotFound:
        return None


def _page_targets(
    state: _SweepState,
    items: list[BlingProduct],
    decision: CodeDecision,
    node: CategoryNode | None = None,
) -> list[CodeTarget]:
    targets = []
    for product in items:
        if product.id in state.seen_ids:
            continue
        state.seen_ids.add(product.id)
        state.ctx.count("seen")
        if node is not None and state.plan is not None:
            state.categories[product.id] = (node.id, node.label)
        # `parent_id is not None` is what `is_variation` tests; spelled out so mypy narrows it.
        if product.parent_id is not None:
            state.listed_variation_parents.add(product.parent_id)
        elif product.format == ProductFormat.WITH_VARIATIONS:
            state.parents[product.id] = decision
        if product.format == COMPOSITION:
            state.compositions.add(product.id)
        if product.situation == ProductSituation.EXCLUDED:
            state.ctx.skip(PRODUCT_EXCLUDED)
            state.left_alone(product.id, product.name, PRODUCT_EXCLUDED, product.code)
        elif product.has_code:
            state.ctx.skip(HAS_CODE)
        else:
            targets.append(CodeTarget.of(product, decision))
    return targets


def _sweep_category(
    state: _SweepState, node: CategoryNode, decision: CodeDecision, page_size: int
) -> None:
    """List the whole category page by page, then code its products.

    `products_all_stock_iter` lists each stock state (positive, zero, negative), so the
    category's products are all seen whatever their stock (Bling's default filter would hide
    the sold-out and never-stocked ones); it also splits a `since` older than a year into
    the one-year spans Bling accepts."""
    ctx = state.ctx
    # cast: `products_all_stock_iter` is a generator function annotated `Iterator`; we
    # close it when stopping early.
    items = cast(
        Generator[BlingProduct, None, None],
        catalog.products_all_stock_iter(
            page_size=page_size,
            criterio=catalog.PRODUCTS_ALL,
            category_id=node.id,
            changed_since=ctx.since,
        ),
    )
    batch: list[BlingProduct] = []
    for product in items:
        batch.append(product)
        if len(batch) == page_size:
            _queue(state, _page_targets(state, batch, decision, node))
            ctx.progress(len(state.seen_ids), None, node.label)
            batch = []
            if state.remaining == 0:
                items.close()
                break
    else:
        _queue(state, _page_targets(state, batch, decision, node))
        ctx.progress(len(state.seen_ids), None, node.label)
    # The whole category is listed: now write (see "Listings move" above), in full batches
    # only: the rest waits for the next category's end or the sweep's end, so a code-check
    # lookup covers up to CODE_BATCH codes across categories (an incremental run over 40
    # categories made one lookup per category and stock state for a few codes each).
    _apply(state, [])


def _sweep_unlisted_variations(state: _SweepState) -> None:
    """Fallback for an API that does not list variations under idCategoria (see above)."""
    for parent_id, decision in state.parents.items():
        if parent_id in state.listed_variation_parents or state.remaining == 0:
            continue
        parent = catalog.product_get(product_id=parent_id)
        _apply(state, _page_targets(state, list(parent.variations), decision))


def codes_sweep(ctx: JobContext) -> None:
    """The `codes` job: retry pending assignments, then code every listed product."""
    started = time.monotonic()
    # Refresh the mirror first (one call per 100 categories): a category created in Bling
    # since the last `categories` run gets its products coded now, not tomorrow.
    synced = categories_sync()
    if synced.created:
        ctx.note("categories_new", synced.created)
    if not Category.objects.filter(removed_at__isnull=True).exists():
        raise JobStopped("nenhuma categoria de produto no Bling: nada a codificar")
    state = _SweepState(ctx=ctx)
    if ctx.dry_run:
        state.plan = PlanRecorder.start(ctx.run, kind="codes")
    page_size = runtime_settings_get().sweep_page_size or 100
    _retry_pending(state)
    categories = categories_generating_codes(nodes=category_nodes_load())
    ctx.note("categories", len(categories))
    for node, decision in categories:
        if state.remaining == 0:
            break
        _sweep_category(state, node, decision, page_size)
    if ctx.since is None:
        _sweep_unlisted_variations(state)
    _apply(state, [], flush=True)
    if state.compositions:
        ctx.note("composition_details", compositions_read(product_ids=state.compositions))
    ctx.note("coded", state.coded)
    if state.plan is not None:
        state.plan.finish()
    ctx.note("duration_seconds", round(time.monotonic() - started, 1))
    ctx.progress(len(state.seen_ids), len(state.seen_ids), "concluído")


register_job("codes")(codes_sweep)
