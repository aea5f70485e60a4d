"""Typed calls to Bling's resources (products, categories, stock, orders, company).

Each function sends exactly the requests the OpenAPI document allows (array parameters end in
`[]`), translates the answer into `blingsync.bling.types`, and raises
`blingsync.bling.errors` on failure. Every request goes through the shared client
(`blingsync.bling.client`): rate limit, token refresh, retries, API-call counting.

CONTRACT: the signatures below are what the rest of blingsync codes against.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from blingsync.bling.types import (
    BlingCategory,
    BlingProduct,
    Company,
    Order,
    OrderSituation,
    OrderSummary,
    SituationAlert,
    StockBalance,
)

# `criterio` of GET /produtos
PRODUCTS_ACTIVE = 2
PRODUCTS_INACTIVE = 3
PRODUCTS_ALL = 5
# `filtroSaldoEstoque`
STOCK_ZERO = 0
STOCK_POSITIVE = 1
STOCK_NEGATIVE = 2


def products_page(
    *,
    page: int,
    page_size: int = 100,
    criterio: int = PRODUCTS_ALL,
    category_id: int | None = None,
    changed_since: datetime | None = None,
    changed_until: datetime | None = None,
    product_ids: Iterable[int] | None = None,
    codes: Iterable[str] | None = None,
    stock_filter: int | None = None,
    deposit_id: int | None = None,
) -> list[BlingProduct]:
    """One page of GET /produtos (list items: no category, `available_stock` set)."""
    raise NotImplementedError


def products_iter(*, page_size: int = 100, **filters) -> Iterator[BlingProduct]:
    """Every product matching the filters of `products_page`, page after page, until a page
    comes back shorter than `page_size`."""
    raise NotImplementedError


def product_get(*, product_id: int) -> BlingProduct:
    """GET /produtos/{id}: with category_id and variations. Raises BlingNotFound."""
    raise NotImplementedError


def product_code_set(*, product_id: int, code: str) -> None:
    """PATCH /produtos/{id} with {"codigo": code} only (never a PUT of a partial body)."""
    raise NotImplementedError


def product_situation_set(*, product_id: int, situation: str) -> None:
    """PATCH /produtos/{id}/situacoes {"situacao": "A"|"I"} (204)."""
    raise NotImplementedError


def products_situation_set(*, product_ids: list[int], situation: str) -> list[SituationAlert]:
    """POST /produtos/situacoes; returns the per-product failures (`alertas`), empty when all
    were applied."""
    raise NotImplementedError


def products_with_codes(*, codes: Iterable[str]) -> list[BlingProduct]:
    """Products (any situation) that already use one of `codes` (GET /produtos codigos[])."""
    raise NotImplementedError


def categories_iter() -> Iterator[BlingCategory]:
    """Every product category (GET /categorias/produtos, pages of 100)."""
    raise NotImplementedError


def stock_balances(*, product_ids: list[int], deposit_id: int | None = None) -> list[StockBalance]:
    """GET /estoques/saldos (or /estoques/saldos/{deposit}) for up to 100 products."""
    raise NotImplementedError


def orders_iter(
    *, changed_since: datetime, changed_until: datetime | None = None
) -> Iterator[OrderSummary]:
    """GET /pedidos/vendas by dataAlteracaoInicial/Final (spans over a year are split)."""
    raise NotImplementedError


def order_get(*, order_id: int) -> Order:
    """GET /pedidos/vendas/{id}: with its items."""
    raise NotImplementedError


def order_situations() -> list[OrderSituation]:
    """Situations of the sales module ("Vendas"), resolved through /situacoes/modulos."""
    raise NotImplementedError


def company_get() -> Company:
    """GET /empresas/me/dados-basicos."""
    raise NotImplementedError
