"""NF-e (``/nfe``) and NFC-e (``/nfce``): list and detail, per Bling's OpenAPI document.

Query tables follow ``GET /nfe`` and ``GET /nfce`` of ``specs/bling-openapi-reference.json``
(tempont/bling-erp-api-python): NF-e has ``numeroLoja`` and ``tipo`` (0 entrada / 1 saída,
**default "1"**, applied when omitted), NFC-e has neither. Both: ``pagina``, ``limite``,
``idTransportador``, ``chaveAcesso``, ``numero``, ``serie``, ``situacao`` (1..11; NFC-e's enum
also lists 12) and ``dataEmissaoInicial/Final``. Without ``situacao`` the cancelled invoices
(situação 2) are left out, as the document says. List items carry ``id, tipo, situacao,
numero, dataEmissao, dataOperacao, chaveAcesso, contato, naturezaOperacao, loja``; the detail
adds ``serie, valorNota, finalidade, numeroPedidoLoja, itens[]`` (``codigo``, ``quantidade``,
no product id). Invoices are ordered by id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import not_found
from .routing import Request, Response, Route, page
from .validation import DATETIME_FMT, PAGINATION, Param

if TYPE_CHECKING:
    from .fake import FakeBling

_SITUACOES = tuple(range(1, 12))
CANCELLED = 2

NFE_LIST_PARAMS: dict[str, Param] = {
    **PAGINATION,
    "numeroLoja": Param("str"),
    "idTransportador": Param("int"),
    "chaveAcesso": Param("int"),
    "numero": Param("int"),
    "serie": Param("int"),
    "situacao": Param("int", enum=_SITUACOES),
    "tipo": Param("str", enum=("0", "1")),
    "dataEmissaoInicial": Param("datetime"),
    "dataEmissaoFinal": Param("datetime"),
}

NFCE_LIST_PARAMS: dict[str, Param] = {
    **PAGINATION,
    "idTransportador": Param("int"),
    "chaveAcesso": Param("int"),
    "numero": Param("int"),
    "serie": Param("int"),
    "situacao": Param("int", enum=(*_SITUACOES, 12)),
    "dataEmissaoInicial": Param("datetime"),
    "dataEmissaoFinal": Param("datetime"),
}

LIST_KEYS = (
    "id",
    "tipo",
    "situacao",
    "numero",
    "dataEmissao",
    "dataOperacao",
    "chaveAcesso",
    "contato",
    "naturezaOperacao",
    "loja",
)


def list_item(invoice: dict[str, Any]) -> dict[str, Any]:
    return {k: invoice[k] for k in LIST_KEYS}


def _list(fake: FakeBling, req: Request, kind: str) -> Response:
    p = req.params
    lo, hi = p.get("dataEmissaoInicial"), p.get("dataEmissaoFinal")
    out = []
    for iid in sorted(fake.catalog.invoices[kind]):
        inv = fake.catalog.invoices[kind][iid]
        if "situacao" in p:
            if inv["situacao"] != p["situacao"]:
                continue
        elif inv["situacao"] == CANCELLED:
            continue  # "as notas canceladas não serão incluídas na consulta"
        if kind == "nfe" and str(inv["tipo"]) != p.get("tipo", "1"):
            continue
        if lo is not None and inv["dataEmissao"] < lo.strftime(DATETIME_FMT):
            continue
        if hi is not None and inv["dataEmissao"] > hi.strftime(DATETIME_FMT):
            continue
        if "numero" in p and str(inv["numero"]) != str(p["numero"]):
            continue
        if "serie" in p and inv["serie"] != p["serie"]:
            continue
        if "numeroLoja" in p and inv["numeroPedidoLoja"] != p["numeroLoja"]:
            continue
        out.append(inv)
    return Response(200, {"data": [list_item(i) for i in page(out, p)]})


def list_nfe(fake: FakeBling, req: Request) -> Response:
    return _list(fake, req, "nfe")


def list_nfce(fake: FakeBling, req: Request) -> Response:
    return _list(fake, req, "nfce")


def _get(fake: FakeBling, kind: str, invoice_id: int) -> Response:
    inv = fake.catalog.invoices[kind].get(invoice_id)
    if inv is None:
        raise not_found("Nota fiscal não encontrada.")
    return Response(200, {"data": dict(inv)})


def get_nfe(fake: FakeBling, req: Request) -> Response:
    return _get(fake, "nfe", req.int_param("idNotaFiscal"))


def get_nfce(fake: FakeBling, req: Request) -> Response:
    return _get(fake, "nfce", req.int_param("idNotaFiscalConsumidor"))


def new_invoice(
    fake: FakeBling,
    *,
    kind: str,
    invoice_id: int,
    items: list[tuple[str, float]],
    situacao: int,
    tipo: int,
    numero: str,
    data_emissao: str,
    finalidade: int,
    numero_pedido_loja: str,
) -> dict[str, Any]:
    """An invoice record with Bling's field names (items are (codigo, quantidade))."""
    itens = []
    for code, qty in items:
        prod = next((p for p in fake.catalog.products.values() if p["codigo"] == code), {})
        price = float(prod.get("preco", 0.0))
        itens.append(
            {
                "codigo": code,
                "descricao": prod.get("nome", f"Item {code}"),
                "unidade": "UN",
                "quantidade": qty,
                "valor": price,
                "valorTotal": round(price * qty, 2),
                "tipo": "P",
                "pesoBruto": 0,
                "pesoLiquido": 0,
                "numeroPedidoCompra": "",
                "classificacaoFiscal": "",
                "cest": "",
                "codigoServico": "",
                "origem": 0,
                "informacoesAdicionais": "",
                "gtin": prod.get("gtin", ""),
                "cfop": "5102",
            }
        )
    total = round(sum(i["valorTotal"] for i in itens), 2)
    return {
        "id": invoice_id,
        "tipo": tipo,
        "situacao": situacao,
        "numero": numero,
        "dataEmissao": data_emissao,
        "dataOperacao": data_emissao,
        "chaveAcesso": f"{invoice_id:044d}",
        "contato": {
            "id": 1,
            "nome": "Cliente Teste",
            "tipoPessoa": "F",
            "numeroDocumento": "00000000000",
            "contribuinte": 9,
        },
        "naturezaOperacao": {"id": 1},
        "loja": {"id": 0, "numero": ""},
        "serie": 1,
        "valorNota": total,
        "valorFrete": 0,
        "finalidade": finalidade,
        "numeroPedidoLoja": numero_pedido_loja,
        "vendedor": {"id": 0},
        "itens": itens,
        "parcelas": [],
    }


def webhook_data(invoice: dict[str, Any]) -> dict[str, Any]:
    """The `invoice.*` / `consumer_invoice.*` payload of bling-v3.md 8.4 (no items)."""
    return {
        "id": invoice["id"],
        "tipo": invoice["tipo"],
        "situacao": invoice["situacao"],
        "numero": invoice["numero"],
        "dataEmissao": invoice["dataEmissao"],
        "dataOperacao": invoice["dataOperacao"],
        "contato": {"id": invoice["contato"]["id"]},
        "naturezaOperacao": {"id": invoice["naturezaOperacao"]["id"]},
        "loja": {"id": invoice["loja"]["id"]},
    }


ROUTES = [
    Route("GET", "/nfe", list_nfe, NFE_LIST_PARAMS),
    Route("GET", "/nfe/{idNotaFiscal:int}", get_nfe),
    Route("GET", "/nfce", list_nfce, NFCE_LIST_PARAMS),
    Route("GET", "/nfce/{idNotaFiscalConsumidor:int}", get_nfce),
]
