"""Sales orders (``/pedidos/vendas``) and order situations (``/situacoes/modulos``).

List items carry no ``itens`` (bling-v3.md 7.1); the detail has ``itens[].produto.id``,
``quantidade``, ``codigo``. Orders are ordered by id. Adding an order does not move stock:
tests set balances explicitly (Bling's own reservation/launch rules are configurable per
account and not modelled), or use ``fake.sell`` (``compositions.sell``), which posts the
exits an order causes, kits by their ``lancamentoEstoque``. ``idContato``, ``idLoja``, ``idVendedor``, ``idControleCaixa``,
``numerosLojas[]``, ``idUnidadeNegocio`` are validated, and matched against the stored order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import ApiError, envelope, not_found
from .routing import Request, Response, Route, page
from .state import SALES_MODULE_ID, SITUATION_COLORS, SITUATION_INHERITS
from .validation import DATE_FMT, DATETIME_FMT, PAGINATION, Param

if TYPE_CHECKING:
    from .fake import FakeBling

LIST_PARAMS: dict[str, Param] = {
    **PAGINATION,
    "idContato": Param("int"),
    "idsSituacoes[]": Param("int[]"),
    "dataInicial": Param("date"),
    "dataFinal": Param("date"),
    "dataAlteracaoInicial": Param("datetime"),
    "dataAlteracaoFinal": Param("datetime"),
    "dataPrevistaInicial": Param("date"),
    "dataPrevistaFinal": Param("date"),
    "numero": Param("int"),
    "idLoja": Param("int"),
    "idVendedor": Param("int"),
    "idControleCaixa": Param("int"),
    "numerosLojas[]": Param("str[]"),
    "idUnidadeNegocio": Param("int"),
}

LIST_KEYS = (
    "id",
    "numero",
    "numeroLoja",
    "data",
    "dataSaida",
    "dataPrevista",
    "totalProdutos",
    "total",
    "contato",
    "situacao",
    "loja",
)


def list_item(order: dict[str, Any]) -> dict[str, Any]:
    return {k: order[k] for k in LIST_KEYS}


def list_orders(fake: FakeBling, req: Request) -> Response:
    p = req.params
    sits = set(p.get("idsSituacoes[]", [])) or None
    lojas = set(p.get("numerosLojas[]", [])) or None
    ranges = [
        ("data", p.get("dataInicial"), p.get("dataFinal"), DATE_FMT),
        ("dataPrevista", p.get("dataPrevistaInicial"), p.get("dataPrevistaFinal"), DATE_FMT),
        ("dataAlteracao", p.get("dataAlteracaoInicial"), p.get("dataAlteracaoFinal"), DATETIME_FMT),
    ]
    out = []
    for oid in sorted(fake.catalog.orders):
        order = fake.catalog.orders[oid]
        if sits is not None and order["situacao"]["id"] not in sits:
            continue
        if lojas is not None and order["numeroLoja"] not in lojas:
            continue
        if "numero" in p and order["numero"] != p["numero"]:
            continue
        if "idContato" in p and order["contato"]["id"] != p["idContato"]:
            continue
        if "idLoja" in p and order["loja"]["id"] != p["idLoja"]:
            continue
        if "idVendedor" in p and order["vendedor"]["id"] != p["idVendedor"]:
            continue
        if not all(_in_range(order[key], lo, hi, fmt) for key, lo, hi, fmt in ranges):
            continue
        out.append(order)
    return Response(200, {"data": [list_item(o) for o in page(out, p)]})


def _in_range(value: str, lo: Any, hi: Any, fmt: str) -> bool:
    if lo is not None and value < lo.strftime(fmt):
        return False
    return not (hi is not None and value > hi.strftime(fmt))


def get_order(fake: FakeBling, req: Request) -> Response:
    order = fake.catalog.orders.get(req.int_param("idPedidoVenda"))
    if order is None:
        raise not_found("Pedido de venda não encontrado.")
    data = {k: v for k, v in order.items() if k != "dataAlteracao"}
    return Response(200, {"data": data})


def _scope_check(fake: FakeBling) -> None:
    """``fake.situations_forbidden``: the app was authorised without the Situações scope."""
    if fake.situations_forbidden:
        raise ApiError(
            403,
            envelope(
                "insufficient_scope",
                "insufficient_scope",
                "The request requires higher privileges than provided by the access token",
            ),
        )


def list_modules(fake: FakeBling, req: Request) -> Response:
    _scope_check(fake)
    return Response(
        200,
        {
            "data": [
                {
                    "id": SALES_MODULE_ID - 2,
                    "nome": "Compras",
                    "descricao": "Pedidos de Compra",
                    "criarSituacoes": True,
                },
                {
                    "id": SALES_MODULE_ID,
                    "nome": "Vendas",
                    "descricao": "Pedidos de Venda",
                    "criarSituacoes": True,
                },
            ]
        },
    )


def module_situations(fake: FakeBling, req: Request) -> Response:
    _scope_check(fake)
    module_id = req.int_param("idModuloSistema")
    if module_id == SALES_MODULE_ID:
        sits = fake.catalog.order_situations
    elif module_id == SALES_MODULE_ID - 2:
        sits = {28: "Em aberto", 29: "Atendido", 30: "Cancelado"}
    else:
        raise not_found("Módulo não encontrado.")
    return Response(
        200,
        {
            "data": [
                {
                    "id": sid,
                    "nome": name,
                    "idHerdado": SITUATION_INHERITS.get(sid, 0),
                    "cor": SITUATION_COLORS.get(sid, "#888888"),
                }
                for sid, name in sorted(sits.items())
            ]
        },
    )


ROUTES = [
    Route("GET", "/pedidos/vendas", list_orders, LIST_PARAMS),
    Route("GET", "/pedidos/vendas/{idPedidoVenda:int}", get_order),
    Route("GET", "/situacoes/modulos", list_modules),
    Route("GET", "/situacoes/modulos/{idModuloSistema:int}", module_situations),
]
