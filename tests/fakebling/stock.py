"""Stock: ``GET /estoques/saldos[/{idDeposito}]``, ``POST /estoques``, ``GET /depositos``.

There is deliberately no ``GET /estoques`` (nor ``/estoques/{id}``): real v3 has none, so the
router answers 404 RESOURCE_NOT_FOUND, like Bling.

Balances are kept per product per deposit as ``{"fisico", "virtual"}``; virtual = physical
minus reservations, and a posting moves both by the same delta (reservations unchanged).
``filtroSaldoEstoque`` (0 = exactly zero, 1 positive, 2 negative) defaults to 1 when omitted,
as Bling's OpenAPI document states for both balance endpoints: zero and negative balances are
left out of an unfiltered answer (``fake.stock_filter_default = None`` is the lenient
reading, no filter). Fake choices: the filter applies to saldoFisicoTotal (of the deposit, on
``/{idDeposito}``); unknown ids are simply absent from the answer; ``idsProdutos[]`` and
``codigos[]`` select the union.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import field, not_found, validation_error
from .routing import Request, Response, Route, page
from .state import bling_number
from .validation import PAGINATION, Field, Param, validate_body

if TYPE_CHECKING:
    from .fake import FakeBling

NS = "ESTOQUES"
# Bling's documented default of ``filtroSaldoEstoque`` (GET /produtos, /estoques/saldos and
# /estoques/saldos/{idDeposito}): 1, positive stock only.
STOCK_FILTER_DEFAULT = 1

SALDOS_PARAMS: dict[str, Param] = {
    "idsProdutos[]": Param("int[]", required=True),
    "codigos[]": Param("str[]"),
    "filtroSaldoEstoque": Param("int", enum=(0, 1, 2)),
}
DEPOSIT_PARAMS: dict[str, Param] = {
    **PAGINATION,
    "descricao": Param("str"),
    "situacao": Param("int", enum=(0, 1)),
}
_ID = {"id": Field("integer", required=True)}
POSTING_FIELDS: dict[str, Field] = {
    "produto": Field("object", required=True, children=_ID),
    "deposito": Field("object", required=True, children=_ID),
    "operacao": Field("string", enum=("B", "E", "S"), required=True),
    "preco": Field("number"),
    "custo": Field("number"),
    "quantidade": Field("number", required=True),
    "observacoes": Field("string"),
}


def apply_balance(
    fake: FakeBling, product_id: int, deposit_id: int, fisico: float, virtual: float | None
) -> None:
    """Set a product's balance in one deposit (virtual defaults to physical)."""
    fake.catalog.balances.setdefault(product_id, {})[deposit_id] = {
        "fisico": float(fisico),
        "virtual": float(fisico if virtual is None else virtual),
    }


def _selected(fake: FakeBling, params: dict[str, Any]) -> list[dict[str, Any]]:
    ids = set(params.get("idsProdutos[]", []))
    codes = set(params.get("codigos[]", []))
    prods = fake.catalog.products
    return [
        prods[pid]
        for pid in sorted(prods)
        if pid in ids or (codes and prods[pid]["codigo"] in codes)
    ]


def stock_filter_of(fake: FakeBling, params: dict[str, Any]) -> int | None:
    """The filter in force: the one asked for, else the fake's default (Bling's: 1)."""
    return params.get("filtroSaldoEstoque", fake.stock_filter_default)


def stock_passes(value: float, flt: int | None) -> bool:
    return (
        flt is None
        or (flt == 0 and value == 0)
        or (flt == 1 and value > 0)
        or (flt == 2 and value < 0)
    )


def balances(fake: FakeBling, req: Request) -> Response:
    cat = fake.catalog
    out = []
    for prod in _selected(fake, req.params):
        fisico, virtual = cat.totals(prod["id"])
        if not stock_passes(fisico, stock_filter_of(fake, req.params)):
            continue
        deps = [
            {
                "id": dep_id,
                "saldoFisico": bling_number(bal["fisico"]),
                "saldoVirtual": bling_number(bal["virtual"]),
            }
            for dep_id, bal in sorted(cat.balances.get(prod["id"], {}).items())
        ]
        out.append(
            {
                "produto": {"id": prod["id"], "codigo": prod["codigo"]},
                "saldoFisicoTotal": bling_number(fisico),
                "saldoVirtualTotal": bling_number(virtual),
                "depositos": deps,
            }
        )
    return Response(200, {"data": out})


def balances_in_deposit(fake: FakeBling, req: Request) -> Response:
    dep_id = req.int_param("idDeposito")
    if dep_id not in fake.catalog.deposits:
        raise not_found("Depósito não encontrado.")
    out = []
    for prod in _selected(fake, req.params):
        fisico, virtual = fake.catalog.totals(prod["id"], dep_id)
        if stock_passes(fisico, stock_filter_of(fake, req.params)):
            out.append(
                {
                    "produto": {"id": prod["id"], "codigo": prod["codigo"]},
                    "saldoFisicoTotal": bling_number(fisico),
                    "saldoVirtualTotal": bling_number(virtual),
                }
            )
    return Response(200, {"data": out})


def post_stock(fake: FakeBling, req: Request) -> Response:
    from .errors import empty_body

    if not req.json:
        raise empty_body()
    body = validate_body(req.json, POSTING_FIELDS, NS)
    cat = fake.catalog
    pid = body["produto"]["id"]
    dep_id = body["deposito"]["id"]
    problems = []
    if pid not in cat.products:
        problems.append(field("produto.id", f"Produto {pid} não encontrado.", namespace=NS))
    if dep_id not in cat.deposits:
        problems.append(field("deposito.id", f"Depósito {dep_id} não encontrado.", namespace=NS))
    if problems:
        raise validation_error(problems)
    posting_id, _data = stock_post(fake, pid, dep_id, body["operacao"], body["quantidade"], body)
    return Response(201, {"data": {"id": posting_id}})


def stock_post(
    fake: FakeBling,
    pid: int,
    dep_id: int,
    operacao: str,
    quantidade: float,
    body: dict[str, Any] | None = None,
) -> tuple[int, dict[str, Any]]:
    """Post one movement (caller holds the lock), emit its webhook; returns the posting id
    and the webhook's ``data``.

    A balance (``operacao`` "B", done in Bling's stock screen) arrives as ``stock.created``
    in real accounts, entries and exits as ``stock.updated`` (bling-v3.md 9b); whole
    balances are integers."""
    cat = fake.catalog
    qty = float(quantidade)
    bal = cat.balances.setdefault(pid, {}).setdefault(dep_id, {"fisico": 0.0, "virtual": 0.0})
    old = bal["fisico"]
    new = {"E": old + qty, "S": old - qty, "B": qty}[operacao]
    bal["fisico"] = new
    bal["virtual"] += new - old  # reservations (fisico - virtual) stay as they were
    posting_id = cat.allocate("posting")
    record = body or {
        "produto": {"id": pid},
        "deposito": {"id": dep_id},
        "operacao": operacao,
        "quantidade": quantidade,
    }
    cat.stock_postings.append({"id": posting_id, **record})
    if fake.stock_bumps_data_alteracao:
        cat.touch(pid)
    fisico_total, virtual_total = cat.totals(pid)
    data = {
        "produto": {"id": pid},
        "deposito": {
            "id": dep_id,
            "saldoFisico": bling_number(bal["fisico"]),
            "saldoVirtual": bling_number(bal["virtual"]),
        },
        "operacao": operacao,
        "quantidade": bling_number(float(quantidade)),
        "saldoFisicoTotal": bling_number(fisico_total),
        "saldoVirtualTotal": bling_number(virtual_total),
    }
    fake.emit_webhook(stock_event_of(operacao), data)
    return posting_id, data


def stock_event_of(operacao: str) -> str:
    """The webhook a movement arrives as: a balance ("B") as ``stock.created``."""
    return "stock.created" if operacao == "B" else "stock.updated"


def deposit_item(dep: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": dep["id"],
        "descricao": dep["descricao"],
        "situacao": dep["situacao"],
        "padrao": dep["padrao"],
        "desconsiderarSaldo": dep["desconsiderarSaldo"],
    }


def list_deposits(fake: FakeBling, req: Request) -> Response:
    deps = [fake.catalog.deposits[d] for d in sorted(fake.catalog.deposits)]
    if "descricao" in req.params:
        deps = [d for d in deps if req.params["descricao"].lower() in d["descricao"].lower()]
    # Bling's OpenAPI: `situacao` defaults to 1 (active deposits only) when omitted.
    situacao = req.params.get("situacao", 1)
    deps = [d for d in deps if d["situacao"] == situacao]
    return Response(200, {"data": [deposit_item(d) for d in page(deps, req.params)]})


def get_deposit(fake: FakeBling, req: Request) -> Response:
    dep = fake.catalog.deposits.get(req.int_param("idDeposito"))
    if dep is None:
        raise not_found("Depósito não encontrado.")
    return Response(200, {"data": deposit_item(dep)})


ROUTES = [
    Route("GET", "/estoques/saldos", balances, SALDOS_PARAMS),
    Route("GET", "/estoques/saldos/{idDeposito:int}", balances_in_deposit, SALDOS_PARAMS),
    Route("POST", "/estoques", post_stock),
    Route("GET", "/depositos", list_deposits, DEPOSIT_PARAMS),
    Route("GET", "/depositos/{idDeposito:int}", get_deposit),
]
