"""Kits (compositions, `formato` "E"): the mirror of their `estrutura`, and what the sold-out
rule needs from it.

- **Mirror.** List items carry `formato` but not `estrutura`, so a composition is mirrored
  from a product detail blingsync reads anyway (a product webhook, `product_stock_evaluate`)
  or reads for it: the codes and stock sweeps gather the compositions they meet and pass
  them to `compositions_read` once, so a sweep reads each composition's detail at most
  once, and never the detail of a product that is not one.
  A product whose detail is no longer a composition loses its mirror; a deleted kit keeps
  it (its past sales still moved its parts' stock).
- **Evidence.** A kit that posts its sales on its parts (`lancamentoEstoque` A or M) sold its
  parts: `kit_part_sales` turns each sale line of such a kit into a sale of every part,
  times the part's quantity in the kit.
- **Who to evaluate.** A part's stock event also concerns the virtual kits made of it
  (their stock is computed from the parts and, with `vinculoComplexo`, Bling sends no event
  per kit): `virtual_kits_containing`. An order of kits concerns the kits' parts:
  `order_products_and_parts`.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from blingsync.bling import catalog
from blingsync.bling.errors import BlingNotFound
from blingsync.bling.types import BlingProduct, ProductFormat, StockPosting, StockType
from products.models import Composition, CompositionPart, SaleLine

logger = logging.getLogger(__name__)

COMPOSITION = ProductFormat.COMPOSITION
VIRTUAL = Composition.StockType.VIRTUAL
MOVES_PARTS = (Composition.Posting.PRODUCT_AND_PARTS, Composition.Posting.PARTS)


# ---------------------------------------------------------------- mirror


def composition_mirror(*, product: BlingProduct, now: datetime | None = None) -> str:
    """Mirror the composition of a product *detail* (or forget it when the product is no
    longer one). Returns "mirrored", "forgotten" or "" (nothing to do)."""
    if product.format and product.format != COMPOSITION:
        deleted, _ = Composition.objects.filter(bling_product_id=product.id).delete()
        return "forgotten" if deleted else ""
    structure = product.structure
    if product.format != COMPOSITION or structure is None:
        return ""
    known_type = structure.stock_type in tuple(StockType)
    stock_type = structure.stock_type if known_type else StockType.PHYSICAL
    known_posting = structure.posting in tuple(StockPosting)
    posting = structure.posting if known_posting else StockPosting.PRODUCT_ONLY
    # "" is "not set" (real accounts send it): the defaults, silently; a letter we do not
    # know is worth a warning.
    if (structure.stock_type and not known_type) or (structure.posting and not known_posting):
        logger.warning(
            "composition %s: unexpected estrutura %s/%s, mirrored as %s/%s",
            product.id,
            structure.stock_type,
            structure.posting,
            stock_type,
            posting,
        )
    quantities: dict[int, Decimal] = defaultdict(Decimal)
    for part in structure.parts:
        if part.product_id != product.id and part.quantity > 0:
            quantities[part.product_id] += part.quantity
    values = {
        "name": product.name[:200],
        "code": product.code[:60],
        "stock_type": stock_type,
        "posting": posting,
        "read_at": now or timezone.now(),
    }
    for _attempt in range(2):
        try:
            with transaction.atomic():
                row, _created = Composition.objects.update_or_create(
                    bling_product_id=product.id, defaults=values
                )
                parts = CompositionPart.objects.filter(composition=row)
                # Every product event of a kit comes here: rewrite the parts only when they
                # changed (one read instead of a delete and an insert per event).
                if dict(parts.values_list("bling_product_id", "quantity")) != dict(quantities):
                    parts.delete()
                    CompositionPart.objects.bulk_create(
                        CompositionPart(composition=row, bling_product_id=pid, quantity=qty)
                        for pid, qty in sorted(quantities.items())
                    )
            return "mirrored"
        except IntegrityError:
            continue  # a webhook and a sweep mirrored it at once: the second try updates
    return ""


def compositions_read(*, product_ids: Iterable[int]) -> int:
    """Read and mirror the detail of each composition in `product_ids`, once each (a sweep
    gathers the ones it meets and calls this once). Returns the number of detail calls."""
    calls = 0
    for product_id in sorted(set(product_ids)):
        calls += 1
        try:
            product = catalog.product_get(product_id=product_id)
        except BlingNotFound:
            continue
        composition_mirror(product=product)
    return calls


def compositions_listed(
    *, page_size: int = 100, changed_since: datetime | None = None
) -> tuple[set[int], int]:
    """Ids of every composition product in Bling (`GET /produtos?tipo=E&criterio=5`, changed
    since `changed_since` if given), asked for each stock state (Bling's `filtroSaldoEstoque`
    defaults to positive stock only); returns (ids, list calls)."""
    ids: set[int] = set()
    calls = 0
    for stock_filter in (catalog.STOCK_ZERO, catalog.STOCK_POSITIVE, catalog.STOCK_NEGATIVE):
        page = 1
        while True:
            items = catalog.products_page(
                page=page,
                page_size=page_size,
                criterio=catalog.PRODUCTS_ALL,
                product_type=COMPOSITION,
                stock_filter=stock_filter,
                changed_since=changed_since,
            )
            calls += 1
            ids.update(item.id for item in items if item.format == COMPOSITION)
            if len(items) < page_size:
                break
            page += 1
    return ids, calls


def compositions_unmirrored(*, product_ids: Iterable[int]) -> set[int]:
    ids = set(product_ids)
    known = Composition.objects.filter(bling_product_id__in=ids).values_list(
        "bling_product_id", flat=True
    )
    return ids - set(known)


# ---------------------------------------------------------------- evidence


@dataclass(frozen=True)
class KitPartLine:
    """A sale line of a kit, as a sale of one of its parts."""

    part_id: int
    line: SaleLine
    quantity: Decimal
    kit_name: str


def kit_part_sales(*, part_ids: Iterable[int], since: date) -> list[KitPartLine]:
    """Sale lines (since `since`) of the kits that post on their parts, for `part_ids`."""
    parts = list(
        CompositionPart.objects.filter(
            bling_product_id__in=list(part_ids), composition__posting__in=MOVES_PARTS
        ).select_related("composition")
    )
    if not parts:
        return []
    by_kit: dict[int, list[CompositionPart]] = defaultdict(list)
    for part in parts:
        by_kit[part.composition.bling_product_id].append(part)
    lines = SaleLine.objects.filter(bling_product_id__in=list(by_kit), order_date__gte=since)
    out = []
    for line in lines.order_by("order_date", "order_id", "line"):
        for part in by_kit[line.bling_product_id]:
            out.append(
                KitPartLine(
                    part_id=part.bling_product_id,
                    line=line,
                    quantity=line.quantity * part.quantity,
                    kit_name=part.composition.label,
                )
            )
    return out


def virtual_kits_load(*, product_ids: Iterable[int]) -> dict[int, Composition]:
    """The mirrored virtual-stock kits among `product_ids`, with their parts."""
    rows = Composition.objects.filter(
        bling_product_id__in=list(product_ids), stock_type=VIRTUAL
    ).prefetch_related("parts")
    return {row.bling_product_id: row for row in rows}


# ---------------------------------------------------------------- who to evaluate


def virtual_kits_containing(*, product_id: int) -> list[int]:
    """Virtual-stock kits made (among others) of `product_id`."""
    return sorted(
        CompositionPart.objects.filter(
            bling_product_id=product_id, composition__stock_type=VIRTUAL
        ).values_list("composition__bling_product_id", flat=True)
    )


def order_products_and_parts(*, product_ids: Iterable[int]) -> list[int]:
    """An order's products plus the parts of its kits that post on their parts."""
    ids = set(product_ids)
    parts = CompositionPart.objects.filter(
        composition__bling_product_id__in=list(ids), composition__posting__in=MOVES_PARTS
    ).values_list("bling_product_id", flat=True)
    return sorted(ids | set(parts))
