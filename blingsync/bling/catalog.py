"""Typed calls to Bling's resources (products, categories, stock, orders, company).

Each function sends exactly the requests the OpenAPI document allows (array parameters end in
`[]`), translates the answer into `blingsync.bling.types`, and raises
`blingsync.bling.errors` on failure. Every request goes through the shared client
(`blingsync.bling.client`): rate limit, token refresh, retries, API-call counting.

CONTRACT: the signatures below are what the rest of blingsync codes against.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, overload

from django.utils import timezone

from blingsync.bling.client import api_items, api_pages, api_request
from blingsync.bling.types import (
    BlingCategory,
    BlingProduct,
    Company,
    Deposit,
    DepositBalance,
    Invoice,
    InvoiceItem,
    InvoiceSummary,
    Order,
    OrderItem,
    OrderSituation,
    OrderSummary,
    ProductFormat,
    ProductStructure,
    SituationAlert,
    StockBalance,
    StructurePart,
)

# `criterio` of GET /produtos
PRODUCTS_ACTIVE = 2
PRODUCTS_INACTIVE = 3
PRODUCTS_ALL = 5
# `filtroSaldoEstoque` (GET /produtos, /estoques/saldos[/{idDeposito}]). Bling's OpenAPI
# document gives it a default of 1 when omitted: an unfiltered call answers for products with
# positive stock only, and a sold-out (0) or oversold (< 0) product is silently left out
# (bling-v3.md 4.1, 6.2). A call that must see every product asks each state and merges.
STOCK_ZERO = 0
STOCK_POSITIVE = 1
STOCK_NEGATIVE = 2
# Every value `filtroSaldoEstoque` takes: a product's balance is positive, zero or negative,
# so the union of the three answers is the whole catalog (most products first).
EVERY_STOCK_STATE = (STOCK_POSITIVE, STOCK_ZERO, STOCK_NEGATIVE)

# Bling's datetimes are local Brazilian time without an offset.
BLING_TZ = zoneinfo.ZoneInfo("America/Sao_Paulo")
BLING_DATETIME = "%Y-%m-%d %H:%M:%S"
# Ids per request for array filters (`idsProdutos[]`, `codigos[]`): the real maximum is
# UNCONFIRMED; 100 matches the page size and keeps URLs short.
IDS_PER_CALL = 100
CODES_PER_CALL = 50
# Bling refuses period filters spanning more than one year.
MAX_SPAN = timedelta(days=365)
SALES_MODULE_NAME = "vendas"


# ------------------------------------------------------------------ translation helpers


def _bling_datetime(value: datetime) -> str:
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value.astimezone(BLING_TZ).strftime(BLING_DATETIME)


def _int_or_none(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number or None  # Bling uses 0 for "none" (root category, no parent)


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value is not None else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def _date(value: Any) -> date | None:
    if not value or not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _id_of(obj: Any) -> int | None:
    return _int_or_none(obj.get("id")) if isinstance(obj, dict) else None


def _product(item: dict[str, Any], parent_id: int | None = None) -> BlingProduct:
    stock = item.get("estoque")
    available = None
    if isinstance(stock, dict) and stock.get("saldoVirtualTotal") is not None:
        available = _decimal(stock.get("saldoVirtualTotal"))
    raw_variation = item.get("variacao")
    variation = raw_variation if isinstance(raw_variation, dict) else {}
    parent = (
        _int_or_none(item.get("idProdutoPai")) or _id_of(variation.get("produtoPai")) or parent_id
    )
    variations = tuple(
        _product(v, parent_id=_int_or_none(item.get("id")))
        for v in item.get("variacoes") or []
        if isinstance(v, dict)
    )
    return BlingProduct(
        id=int(item["id"]),
        name=str(item.get("nome") or ""),
        code=str(item.get("codigo") or ""),
        situation=_letter(item.get("situacao")),
        format=_letter(item.get("formato")),
        parent_id=parent,
        category_id=_id_of(item.get("categoria")),
        available_stock=available,
        variations=variations,
        structure=_structure(item.get("estrutura")),
    )


def _letter(value: Any) -> str:
    """A one-letter enum field (`situacao`, `formato`, `tipoEstoque`, ...) as its upper-case
    letter; "" when not set. Real accounts send "" (and null) for "not set" in fields whose
    documented enum has no such value (bling-v3.md 9b): never an error."""
    if value is None or isinstance(value, (dict, list, bool)):
        return ""
    return str(value).strip().upper()


def _structure(value: Any) -> ProductStructure | None:
    """`estrutura` (ProdutosEstruturaDTO: tipoEstoque F|V, lancamentoEstoque A|M|P,
    componentes[{produto.id, quantidade}]); None when absent or not an object. Products that
    are not compositions carry it too, with "" in both enums and no parts (not set)."""
    if not isinstance(value, dict):
        return None
    parts = []
    for comp in value.get("componentes") or []:
        product_id = _id_of(comp.get("produto")) if isinstance(comp, dict) else None
        if product_id:
            parts.append(
                StructurePart(product_id=product_id, quantity=_decimal(comp.get("quantidade")))
            )
    return ProductStructure(
        stock_type=_letter(value.get("tipoEstoque")),
        posting=_letter(value.get("lancamentoEstoque")),
        parts=tuple(parts),
    )


def _data(body: Any) -> Any:
    return body.get("data") if isinstance(body, dict) else None


def _chunks(values: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# A window starts at a datetime whenever `since` is one (the orders and invoices listings).
@overload
def _year_windows(
    since: datetime, until: datetime | None
) -> list[tuple[datetime, datetime | None]]: ...
@overload
def _year_windows(
    since: datetime | None, until: datetime | None
) -> list[tuple[datetime | None, datetime | None]]: ...
def _year_windows(
    since: datetime | None, until: datetime | None
) -> Sequence[tuple[datetime | None, datetime | None]]:
    """Split [since, until] (until defaults to now) into spans Bling accepts (<= 1 year)."""
    if since is None:
        return [(None, until)]
    end = until or timezone.now()
    if end - since <= MAX_SPAN:
        return [(since, until)]
    windows: list[tuple[datetime | None, datetime | None]] = []
    start = since
    while start < end:
        stop = min(start + MAX_SPAN, end)
        windows.append((start, stop))
        start = stop + timedelta(seconds=1)
    return windows


# ------------------------------------------------------------------ products


def _products_params(
    *,
    criterio: int,
    category_id: int | None,
    changed_since: datetime | None,
    changed_until: datetime | None,
    product_ids: Iterable[int] | None,
    codes: Iterable[str] | None,
    stock_filter: int | None,
    deposit_id: int | None,
    product_type: str | None = None,
) -> list[tuple[str, Any]]:
    params: list[tuple[str, Any]] = [("criterio", criterio)]
    if product_type is not None:
        params.append(("tipo", product_type))  # e.g. ProductFormat.COMPOSITION
    if category_id is not None:
        params.append(("idCategoria", category_id))
    if changed_since is not None:
        params.append(("dataAlteracaoInicial", _bling_datetime(changed_since)))
    if changed_until is not None:
        params.append(("dataAlteracaoFinal", _bling_datetime(changed_until)))
    params.extend(("idsProdutos[]", int(pid)) for pid in product_ids or ())
    params.extend(("codigos[]", str(code)) for code in codes or ())
    if stock_filter is not None:
        params.append(("filtroSaldoEstoque", stock_filter))
    if deposit_id is not None:
        params.append(("filtroSaldoEstoqueDeposito", deposit_id))
    return params


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
    stock_filter: int | None,
    deposit_id: int | None = None,
    product_type: str | None = None,
) -> list[BlingProduct]:
    """One page of GET /produtos (list items: no category, `available_stock` set);
    `product_type` is Bling's `tipo` (T, P, S, E compositions, PS, C, V).

    `stock_filter` is required so that no caller forgets it: None omits
    `filtroSaldoEstoque`, which Bling reads as 1 (positive stock only); a listing that must
    be complete uses `products_all_stock_iter` or `products_by_ids` instead."""
    params = _products_params(
        criterio=criterio,
        category_id=category_id,
        changed_since=changed_since,
        changed_until=changed_until,
        product_ids=product_ids,
        codes=codes,
        stock_filter=stock_filter,
        deposit_id=deposit_id,
        product_type=product_type,
    )
    params += [("pagina", page), ("limite", page_size)]
    items = _data(api_request("GET", "/produtos", params=params)) or []
    return [_product(item) for item in items if isinstance(item, dict)]


def products_iter(*, page_size: int = 100, **filters) -> Iterator[BlingProduct]:
    """Every product matching the filters of `products_page`, page after page, until a page
    comes back shorter than `page_size`. A `changed_since` older than a year is split into
    one-year spans (Bling refuses longer ones)."""
    since = filters.pop("changed_since", None)
    until = filters.pop("changed_until", None)
    for start, stop in _year_windows(since, until):
        page = 1
        while True:
            batch = products_page(
                page=page,
                page_size=page_size,
                changed_since=start,
                changed_until=stop,
                **filters,
            )
            yield from batch
            if len(batch) < page_size:
                break
            page += 1


def products_all_stock_iter(
    *, page_size: int = 100, stock_states: tuple[int, ...] = EVERY_STOCK_STATE, **filters
) -> Iterator[BlingProduct]:
    """Every product matching the filters of `products_page` whatever its stock: one listing
    per `filtroSaldoEstoque` state (positive, zero, negative), each product yielded once.

    Complete because every balance is positive, zero or negative, and Bling's default
    (omitted = positive only) is never relied on. Costs one listing per state: for a
    catalog mostly in stock, the zero and negative listings are a page each. A product
    whose stock changes state while we list may come up twice (yielded once) or, if it moves
    into a state already listed, not at all in this call: the next run sees it."""
    if "stock_filter" in filters:
        raise TypeError("products_all_stock_iter asks every stock state itself")
    seen: set[int] = set()
    for state in stock_states:
        for product in products_iter(page_size=page_size, stock_filter=state, **filters):
            if product.id not in seen:
                seen.add(product.id)
                yield product


def products_by_ids(
    *, product_ids: Iterable[int], criterio: int = PRODUCTS_ALL
) -> dict[int, BlingProduct]:
    """The products among `product_ids` that Bling lists under `criterio` (any stock), by id.

    GET /produtos?idsProdutos[]=... (100 ids per call, one page each) once per stock state,
    asking each next state only for the ids not found yet: complete because every balance is
    positive, zero or negative, and usually 1-2 calls per 100 ids. An id missing from the
    answer is not listed under `criterio` (or its stock moved between two calls: a caller
    about to act on an absence confirms it with `product_get`)."""
    found: dict[int, BlingProduct] = {}
    for chunk in _chunks(sorted({int(pid) for pid in product_ids}), IDS_PER_CALL):
        remaining = set(chunk)
        for state in EVERY_STOCK_STATE:
            if not remaining:
                break
            for product in products_page(
                page=1,
                page_size=IDS_PER_CALL,
                criterio=criterio,
                product_ids=sorted(remaining),
                stock_filter=state,
            ):
                if product.id in remaining:
                    remaining.discard(product.id)
                    found[product.id] = product
    return found


def product_get(*, product_id: int) -> BlingProduct:
    """GET /produtos/{id}: with category_id and variations. Raises BlingNotFound."""
    item = _data(api_request("GET", f"/produtos/{int(product_id)}"))
    return _product(item)


def product_code_set(*, product_id: int, code: str) -> None:
    """PATCH /produtos/{id} with {"codigo": code} only (never a PUT of a partial body)."""
    api_request("PATCH", f"/produtos/{int(product_id)}", json_body={"codigo": code})


def product_situation_set(*, product_id: int, situation: str) -> None:
    """PATCH /produtos/{id}/situacoes {"situacao": "A"|"I"} (204)."""
    api_request(
        "PATCH", f"/produtos/{int(product_id)}/situacoes", json_body={"situacao": situation}
    )


def products_situation_set(*, product_ids: list[int], situation: str) -> list[SituationAlert]:
    """POST /produtos/situacoes; returns the per-product failures (`alertas`), empty when all
    were applied. Sent in batches of IDS_PER_CALL (setting a situation is idempotent, so a
    failed batch may be retried)."""
    alerts: list[SituationAlert] = []
    for chunk in _chunks([int(pid) for pid in product_ids], IDS_PER_CALL):
        body = api_request(
            "POST",
            "/produtos/situacoes",
            json_body={"idsProdutos": chunk, "situacao": situation},
            idempotent=True,
        )
        data = _data(body)
        raw_alerts = data.get("alertas") if isinstance(data, dict) else None
        for alert in raw_alerts or []:
            if not isinstance(alert, dict):
                continue
            raw_err = alert.get("error")
            err = raw_err if isinstance(raw_err, dict) else {}
            alerts.append(
                SituationAlert(
                    product_id=int(alert.get("id") or 0),
                    error_type=str(err.get("type") or ""),
                    message=str(err.get("description") or err.get("message") or ""),
                )
            )
    return alerts


def products_with_codes(*, codes: Iterable[str]) -> list[BlingProduct]:
    """Products (any situation, any stock) that already use one of `codes`.

    GET /produtos?criterio=5&codigos[]=... (50 codes per call) once per stock state:
    complete because every balance is positive, zero or negative (omitted, Bling answers for
    positive stock only, and a code held by a sold-out product would look free). The states
    left are skipped once every code of the chunk is found; a free code costs 3 calls per
    50."""
    wanted = sorted({str(c) for c in codes if str(c).strip()})
    found: dict[int, BlingProduct] = {}
    for chunk in _chunks(wanted, CODES_PER_CALL):
        missing = set(chunk)
        for state in EVERY_STOCK_STATE:
            if not missing:
                break
            for product in products_iter(criterio=PRODUCTS_ALL, codes=chunk, stock_filter=state):
                found[product.id] = product
                missing.discard(product.code.strip())
    return list(found.values())


def categories_iter() -> Iterator[BlingCategory]:
    """Every product category (GET /categorias/produtos, pages of 100)."""
    for item in api_items("/categorias/produtos", page_size=100):
        yield BlingCategory(
            id=int(item["id"]),
            description=str(item.get("descricao") or ""),
            parent_id=_id_of(item.get("categoriaPai")),
        )


# ------------------------------------------------------------------ stock


def deposits_list() -> list[Deposit]:
    """The account's active deposits (GET /depositos, pages of 100; Bling's `situacao`
    defaults to 1, active)."""
    return [
        Deposit(
            id=int(item["id"]),
            description=str(item.get("descricao") or ""),
            default=bool(item.get("padrao")),
        )
        for item in api_items("/depositos", page_size=100)
        if isinstance(item, dict) and item.get("id")
    ]


# Rounds over the three stock states in `stock_balances`: a second one catches a balance
# that moved into a state already asked while we asked the others.
BALANCE_ROUNDS = 2


def stock_balances(
    *,
    product_ids: list[int],
    deposit_id: int | None = None,
    stock_states: tuple[int, ...] = EVERY_STOCK_STATE,
) -> list[StockBalance]:
    """Balances of the products (all deposits, or `deposit_id`'s), whatever their stock.

    GET /estoques/saldos (or /estoques/saldos/{deposit}) with up to 100 ids, once per
    `filtroSaldoEstoque` state, asking each next state only for the ids not answered yet.
    Complete because every balance is positive, zero or negative (omitted, Bling answers for
    positive balances only, and a sold-out product would have no balance at all). Callers
    that expect mostly zero balances pass `stock_states` in that order to save calls. An id
    still unanswered after the three states is asked again once (its balance moved between
    calls); after that it is unknown to Bling and absent from the result."""
    path = "/estoques/saldos" if deposit_id is None else f"/estoques/saldos/{int(deposit_id)}"
    out: list[StockBalance] = []
    for chunk in _chunks(sorted({int(pid) for pid in product_ids}), IDS_PER_CALL):
        remaining = set(chunk)
        for _round in range(BALANCE_ROUNDS):
            for state in stock_states:
                if not remaining:
                    break
                for balance in _balances_call(path, sorted(remaining), state):
                    if balance.product_id in remaining:
                        remaining.discard(balance.product_id)
                        out.append(balance)
    return out


def _balances_call(path: str, ids: list[int], state: int) -> list[StockBalance]:
    params: list[tuple[str, Any]] = [("idsProdutos[]", pid) for pid in ids]
    params.append(("filtroSaldoEstoque", state))
    out: list[StockBalance] = []
    for item in _data(api_request("GET", path, params=params)) or []:
        product = item.get("produto") if isinstance(item.get("produto"), dict) else {}
        deposits = tuple(
            DepositBalance(
                deposit_id=int(dep.get("id") or 0),
                physical=_decimal(dep.get("saldoFisico")),
                available=_decimal(dep.get("saldoVirtual")),
            )
            for dep in item.get("depositos") or []
            if isinstance(dep, dict)
        )
        out.append(
            StockBalance(
                product_id=int(product.get("id") or 0),
                code=str(product.get("codigo") or ""),
                physical_total=_decimal(item.get("saldoFisicoTotal")),
                available_total=_decimal(item.get("saldoVirtualTotal")),
                deposits=deposits,
            )
        )
    return out


# ------------------------------------------------------------------ orders


def orders_iter(
    *, changed_since: datetime, changed_until: datetime | None = None
) -> Iterator[OrderSummary]:
    """GET /pedidos/vendas by dataAlteracaoInicial/Final (spans over a year are split)."""
    seen: set[int] = set()
    for start, stop in _year_windows(changed_since, changed_until):
        params: list[tuple[str, Any]] = [("dataAlteracaoInicial", _bling_datetime(start))]
        if stop is not None:
            params.append(("dataAlteracaoFinal", _bling_datetime(stop)))
        for item in api_items("/pedidos/vendas", params=params, page_size=100):
            order_id = int(item["id"])
            if order_id in seen:
                continue
            seen.add(order_id)
            yield OrderSummary(
                id=order_id,
                number=_document_number(item.get("numero")),
                date=_date(item.get("data")),
                situation_id=_id_of(item.get("situacao")),
            )


def _document_number(value: Any) -> str:
    """An order's `numero` as text: marketplace orders carry 16-digit numbers
    (2000009257357562, past a 32-bit integer), so it is never narrowed to an int column; a
    number written as a float (2000009257357562.0) loses no digit."""
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _situation_value(value: Any) -> int | None:
    """`situacao.valor` (0 em aberto, 1 atendido, 2 cancelado, ...); None when not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def order_get(*, order_id: int) -> Order:
    """GET /pedidos/vendas/{id}: with its items."""
    item = _data(api_request("GET", f"/pedidos/vendas/{int(order_id)}")) or {}
    items = tuple(
        OrderItem(
            product_id=_id_of(line.get("produto")),
            code=str(line.get("codigo") or ""),
            quantity=_decimal(line.get("quantidade")),
        )
        for line in item.get("itens") or []
        if isinstance(line, dict)
    )
    raw_situation = item.get("situacao")
    situation = raw_situation if isinstance(raw_situation, dict) else {}
    return Order(
        id=int(item.get("id") or order_id),
        number=_document_number(item.get("numero")),
        date=_date(item.get("data")),
        situation_id=_id_of(situation),
        items=items,
        situation_value=_situation_value(situation.get("valor")),
        invoice_id=_id_of(item.get("notaFiscal")),
        store_number=str(item.get("numeroLoja") or ""),
    )


def order_situations() -> list[OrderSituation]:
    """Situations of the sales module ("Vendas"), resolved through /situacoes/modulos.
    Empty when the account has no such module."""
    modules = _data(api_request("GET", "/situacoes/modulos")) or []
    module_id = next(
        (
            int(m["id"])
            for m in modules
            if isinstance(m, dict) and str(m.get("nome") or "").strip().lower() == SALES_MODULE_NAME
        ),
        None,
    )
    if module_id is None:
        return []
    situations = _data(api_request("GET", f"/situacoes/modulos/{module_id}")) or []
    return [
        OrderSituation(id=int(s["id"]), name=str(s.get("nome") or ""))
        for s in situations
        if isinstance(s, dict)
    ]


# ------------------------------------------------------------------ invoices

# NF-e (`/nfe`) and NFC-e (`/nfce`): list by emission date, then the detail for the items.
INVOICE_PATHS = {"nfe": "/nfe", "nfce": "/nfce"}
INVOICE_CANCELLED = 2


def _int_value(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def invoice_pages(
    *,
    kind: str,
    issued_since: datetime,
    issued_until: datetime | None = None,
    situation: int | None = None,
) -> Iterator[list[InvoiceSummary]]:
    """Pages of GET /nfe (outgoing only: `tipo=1`) or GET /nfce by `dataEmissaoInicial/Final`
    (datetimes; spans over a year are split). Without `situation` Bling leaves cancelled
    invoices out (OpenAPI: "as notas canceladas não serão incluídas"); `situation=2` lists
    only those. /nfce has no `tipo` parameter: every NFC-e is a sale to a consumer."""
    path = INVOICE_PATHS[kind]
    seen: set[int] = set()
    for start, stop in _year_windows(issued_since, issued_until):
        params: list[tuple[str, Any]] = [("dataEmissaoInicial", _bling_datetime(start))]
        if stop is not None:
            params.append(("dataEmissaoFinal", _bling_datetime(stop)))
        if kind == "nfe":
            params.append(("tipo", "1"))
        if situation is not None:
            params.append(("situacao", int(situation)))
        for items in api_pages(path, params=params, page_size=100):
            batch = []
            for item in items:
                if not isinstance(item, dict) or _int_or_none(item.get("id")) is None:
                    continue
                invoice_id = int(item["id"])
                if invoice_id in seen:
                    continue
                seen.add(invoice_id)
                batch.append(
                    InvoiceSummary(
                        kind=kind,
                        id=invoice_id,
                        number=str(item.get("numero") or ""),
                        situation=_int_value(item.get("situacao")),
                        issued_on=_date(item.get("dataEmissao")),
                    )
                )
            yield batch


def invoice_get(*, kind: str, invoice_id: int) -> Invoice:
    """GET /nfe/{id} or /nfce/{id}: with `itens[].codigo` / `quantidade` (no product id)."""
    item = _data(api_request("GET", f"{INVOICE_PATHS[kind]}/{int(invoice_id)}")) or {}
    items = tuple(
        InvoiceItem(
            code=str(line.get("codigo") or "").strip(),
            quantity=_decimal(line.get("quantidade")),
            item_type=str(line.get("tipo") or "P"),
        )
        for line in item.get("itens") or []
        if isinstance(line, dict)
    )
    return Invoice(
        kind=kind,
        id=int(item.get("id") or invoice_id),
        number=str(item.get("numero") or ""),
        situation=_int_value(item.get("situacao")),
        issued_on=_date(item.get("dataEmissao")),
        operation_type=_int_value(item.get("tipo")),
        purpose=_int_value(item.get("finalidade")),
        store_order_number=str(item.get("numeroPedidoLoja") or ""),
        items=items,
    )


def products_by_codes(*, codes: Iterable[str]) -> dict[str, int]:
    """{code: product id} for the products (any situation, any stock) using `codes`.

    GET /produtos with `codigos[]` and `criterio=5`, once per stock state (`filtroSaldoEstoque`
    0, 1 and 2): Bling's default (1) would hide exactly the sold-out products an invoice
    zeroed. Chunks of CODES_PER_CALL codes; complete because every state is asked for.
    """
    wanted = sorted({str(c).strip() for c in codes if str(c).strip()})
    found: dict[str, int] = {}
    for chunk in _chunks(wanted, CODES_PER_CALL):
        for stock_filter in (STOCK_ZERO, STOCK_POSITIVE, STOCK_NEGATIVE):
            for product in products_iter(
                criterio=PRODUCTS_ALL, codes=chunk, stock_filter=stock_filter
            ):
                if product.code and product.code in chunk:
                    found.setdefault(product.code, product.id)
    return found


def compositions_with_component(*, component_id: int) -> list[BlingProduct]:
    """Compositions (kits) that contain `component_id`: GET /produtos?tipo=E&idComponente=,
    every situation and stock state (list items carry `estoque.saldoVirtualTotal`)."""
    found: dict[int, BlingProduct] = {}
    for stock_filter in (STOCK_ZERO, STOCK_POSITIVE, STOCK_NEGATIVE):
        params = [
            ("criterio", PRODUCTS_ALL),
            ("tipo", ProductFormat.COMPOSITION),
            ("idComponente", int(component_id)),
            ("filtroSaldoEstoque", stock_filter),
        ]
        for item in api_items("/produtos", params=params, page_size=100):
            if isinstance(item, dict) and item.get("id"):
                product = _product(item)
                found.setdefault(product.id, product)
    return list(found.values())


def product_component_ids(*, product_id: int) -> list[int]:
    """The components of a composition (`estrutura.componentes[].produto.id` of its detail)."""
    item = _data(api_request("GET", f"/produtos/{int(product_id)}")) or {}
    raw_structure = item.get("estrutura")
    structure = raw_structure if isinstance(raw_structure, dict) else {}
    return [
        pid
        for pid in (
            _id_of(c.get("produto"))
            for c in structure.get("componentes") or []
            if isinstance(c, dict)
        )
        if pid
    ]


def company_get(*, access_token: str | None = None) -> Company:
    """GET /empresas/me/dados-basicos (with `access_token` instead of the stored one when
    given: the company of an authorization not stored yet)."""
    data = _data(api_request("GET", "/empresas/me/dados-basicos", access_token=access_token)) or {}
    return Company(id=str(data.get("id") or ""), name=str(data.get("nome") or ""))
