"""Products: ``/produtos`` list, detail, create, PATCH/PUT, situations, delete.

Shapes follow bling-v3.md 4.1-4.3: list items carry no ``categoria`` and only
``estoque.saldoVirtualTotal``; variations are list items of their own with ``idProdutoPai``;
the detail adds ``categoria``, full ``estoque`` and ``variacoes[].variacao.produtoPai``.
As real accounts do (bling-v3.md 9b), a detail carries ``estrutura`` with empty strings when
the product is not a composition, ``actionEstoque`` "", ``dataValidade`` "0000-00-00",
``unidade`` "Un", ``dimensoes.unidadeMedida`` 1 and zero ids for "none"; whole balances are
integers; products with ``situacao`` "E" (excluded) are listed under ``criterio=5``.

Fake choices (real behaviour UNCONFIRMED): results are ordered by id; ``criterio=1`` (the
default, "últimos incluídos") returns every product not excluded; ``filtroSaldoEstoque``
filters on saldoVirtualTotal (0 = exactly zero, 1 = positive, 2 = negative; of the deposit
``filtroSaldoEstoqueDeposito`` when given) and, when omitted, applies Bling's documented
default 1 (positive stock only: a sold-out product is not listed; ``fake.stock_filter_default
= None`` is the lenient reading, no filter); ``idLoja`` is accepted and ignored; ``idCategoria`` matches exactly
(no subcategories), variations through their parent's category (unless
``fake.variations_in_category_lists`` is False).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from .errors import empty_body, field, not_found, validation_error
from .routing import Request, Response, Route, page
from .state import bling_number, now_str
from .stock import stock_filter_of, stock_passes
from .validation import DATETIME_FMT, PAGINATION, Field, Param, validate_body

if TYPE_CHECKING:
    from .fake import FakeBling

NS = "PRODUTOS"

LIST_PARAMS: dict[str, Param] = {
    **PAGINATION,
    "criterio": Param("int", enum=(1, 2, 3, 4, 5)),
    "tipo": Param("str", enum=("T", "P", "S", "E", "PS", "C", "V")),
    "idComponente": Param("int"),
    "dataInclusaoInicial": Param("datetime"),
    "dataInclusaoFinal": Param("datetime"),
    "dataAlteracaoInicial": Param("datetime"),
    "dataAlteracaoFinal": Param("datetime"),
    "idCategoria": Param("int"),
    "idLoja": Param("int"),
    "nome": Param("str"),
    "idsProdutos[]": Param("int[]"),
    "codigos[]": Param("str[]"),
    "gtins[]": Param("str[]"),
    "filtroSaldoEstoque": Param("int", enum=(0, 1, 2)),
    "filtroSaldoEstoqueDeposito": Param("int"),
}

_ID_OBJ = {"id": Field("integer")}

# ProdutosDadosDTO / ProdutosDadosPatchDTO top-level properties (identical sets in the spec).
PRODUCT_FIELDS: dict[str, Field] = {
    "id": Field("integer"),
    "nome": Field("string", max_length=120),
    "codigo": Field("string"),
    "preco": Field("number"),
    "tipo": Field("string", enum=("S", "P", "N")),
    "situacao": Field("string", enum=("A", "I")),
    "formato": Field("string", enum=("S", "V", "E")),
    "descricaoCurta": Field("string"),
    "imagemURL": Field("string"),  # readOnly in the spec: accepted, ignored
    "dataValidade": Field("string"),
    "unidade": Field("string"),
    "pesoLiquido": Field("number"),
    "pesoBruto": Field("number"),
    "volumes": Field("integer"),
    "itensPorCaixa": Field("number"),
    "gtin": Field("string"),
    "gtinEmbalagem": Field("string"),
    "tipoProducao": Field("string", enum=("P", "T")),
    "condicao": Field("integer", enum=(0, 1, 2)),
    "freteGratis": Field("boolean"),
    "marca": Field("string"),
    "descricaoComplementar": Field("string"),
    "linkExterno": Field("string"),
    "observacoes": Field("string"),
    "descricaoEmbalagemDiscreta": Field("string"),
    "categoria": Field("object", children=_ID_OBJ),
    "estoque": Field("object"),
    "fornecedor": Field("object"),  # readOnly in the spec: accepted, ignored
    "actionEstoque": Field("string", enum=("Z", "T")),
    "dimensoes": Field("object"),
    "tributacao": Field("object"),
    "midia": Field("object"),
    "linhaProduto": Field("object"),
    "estrutura": Field("object"),
    "camposCustomizados": Field("array"),
    "artigoPerigoso": Field("boolean"),
    "variacoes": Field("array"),  # accepted; the fake does not rewrite variations from bodies
}
REQUIRED_FULL = ("nome", "tipo", "situacao", "formato")
PUT_FIELDS: dict[str, Field] = {
    name: (Field(f.kind, f.enum, True, f.max_length, f.children) if name in REQUIRED_FULL else f)
    for name, f in PRODUCT_FIELDS.items()
}
IGNORED_ON_WRITE = {"id", "imagemURL", "fornecedor", "variacoes", "actionEstoque"}

SITUATION_FIELDS = {"situacao": Field("string", enum=("A", "I", "E"), required=True)}
BATCH_SITUATION_FIELDS = {
    "idsProdutos": Field("array", required=True),
    "situacao": Field("string", enum=("A", "I", "E"), required=True),
}

# Scalar detail fields and their values for a fresh product (PUT resets to these).
DETAIL_DEFAULTS: dict[str, Any] = {
    "nome": "",
    "codigo": "",
    "preco": 0.0,
    "precoCusto": 0.0,
    "tipo": "P",
    "situacao": "A",
    "formato": "S",
    "descricaoCurta": "",
    "imagemURL": "",
    # As real accounts send them (bling-v3.md 9b): no date is "0000-00-00", the unit "Un",
    # an unset enum "".
    "dataValidade": "0000-00-00",
    "unidade": "Un",
    "actionEstoque": "",
    "pesoLiquido": 0.0,
    "pesoBruto": 0.0,
    "volumes": 1,
    "itensPorCaixa": 1,
    "gtin": "",
    "gtinEmbalagem": "",
    "tipoProducao": "P",
    "condicao": 0,
    "freteGratis": False,
    "marca": "",
    "descricaoComplementar": "",
    "linkExterno": "",
    "observacoes": "",
    "descricaoEmbalagemDiscreta": "",
    "artigoPerigoso": False,
}
ESTOQUE_DEFAULTS = {"minimo": 0, "maximo": 0, "crossdocking": 0, "localizacao": ""}
# Objects of a fresh product's detail as real accounts send them (bling-v3.md 9b): zero ids
# mean "none", `dimensoes.unidadeMedida` is the integer 1.
OBJECT_DEFAULTS: dict[str, Any] = {
    "dimensoes": {"largura": 0, "altura": 0, "profundidade": 0, "unidadeMedida": 1},
    "fornecedor": {
        "id": 0,
        "contato": {"id": 0, "nome": ""},
        "codigo": "",
        "precoCusto": 0,
        "precoCompra": 0,
    },
    "linhaProduto": {"id": 0},
}
# `estrutura` of a product that is not a composition: present, with empty strings.
EMPTY_STRUCTURE: dict[str, Any] = {"tipoEstoque": "", "lancamentoEstoque": "", "componentes": []}
LIST_FIELDS = (
    "id",
    "idProdutoPai",
    "nome",
    "codigo",
    "preco",
    "precoCusto",
    "tipo",
    "situacao",
    "formato",
)


def new_record(pid: int, **values: Any) -> dict[str, Any]:
    """A stored product record (Bling field names plus idProdutoPai/dataInclusao/dataAlteracao)."""
    stamp = now_str()
    rec: dict[str, Any] = {
        "id": pid,
        **copy.deepcopy(DETAIL_DEFAULTS),
        **copy.deepcopy(OBJECT_DEFAULTS),
    }
    rec.update(
        {
            "categoria": {"id": 0},
            "estoque": dict(ESTOQUE_DEFAULTS),
            "idProdutoPai": None,
            "variacao": None,
            "dataInclusao": stamp,
            "dataAlteracao": stamp,
        }
    )
    rec.update(values)
    return rec


def list_item(fake: FakeBling, prod: dict[str, Any]) -> dict[str, Any]:
    item = {k: prod[k] for k in LIST_FIELDS if k in prod}
    if not prod.get("idProdutoPai"):
        item.pop("idProdutoPai", None)
    _, virtual = fake.catalog.totals(prod["id"])
    item["estoque"] = {"saldoVirtualTotal": bling_number(virtual)}
    item["descricaoCurta"] = prod["descricaoCurta"]
    item["imagemURL"] = prod["imagemURL"]
    return item


def detail(
    fake: FakeBling, prod: dict[str, Any], *, with_variations: bool = True
) -> dict[str, Any]:
    cat = fake.catalog
    out = {
        k: copy.deepcopy(v)
        for k, v in prod.items()
        if k not in ("variacao", "dataInclusao", "dataAlteracao")
    }
    if not prod.get("idProdutoPai"):
        out.pop("idProdutoPai", None)
    out["categoria"] = {"id": cat.category_of(prod)}
    _, virtual = cat.totals(prod["id"])
    out["estoque"] = {**prod["estoque"], "saldoVirtualTotal": bling_number(virtual)}
    if not out.get("estrutura"):
        out["estrutura"] = copy.deepcopy(EMPTY_STRUCTURE)
    if prod.get("variacao"):
        out["variacao"] = {
            **prod["variacao"],
            "produtoPai": {"id": prod["idProdutoPai"], "cloneInfo": True},
        }
    if with_variations:
        out["variacoes"] = [
            detail(fake, v, with_variations=False) for v in variations_of(fake, prod["id"])
        ]
    return out


def variations_of(fake: FakeBling, parent_id: int) -> list[dict[str, Any]]:
    return sorted(
        (p for p in fake.catalog.products.values() if p.get("idProdutoPai") == parent_id),
        key=lambda p: p["id"],
    )


def webhook_data(fake: FakeBling, prod: dict[str, Any]) -> dict[str, Any]:
    """``data`` of product.created/updated, version 1 (bling-v3.md 8.4)."""
    data = {
        k: prod[k]
        for k in ("id", "nome", "codigo", "tipo", "situacao", "preco", "unidade", "formato")
    }
    if prod.get("idProdutoPai"):
        data["idProdutoPai"] = prod["idProdutoPai"]
    data["categoria"] = {"id": fake.catalog.category_of(prod)}
    data["descricaoCurta"] = prod["descricaoCurta"]
    data["descricaoComplementar"] = prod["descricaoComplementar"]
    return data


def _get(fake: FakeBling, pid: int) -> dict[str, Any]:
    prod = fake.catalog.products.get(pid)
    if prod is None:
        raise not_found("Produto não encontrado.")
    return prod


def check_unique_code(fake: FakeBling, pid: int | None, codigo: Any) -> None:
    """Bling refuses a codigo already used by another product (field element "codigo")."""
    if not fake.unique_codes or not isinstance(codigo, str) or not codigo:
        return
    for other in fake.catalog.products.values():
        if other["id"] != pid and other["codigo"] == codigo:
            raise validation_error(
                [
                    field(
                        "codigo",
                        f"O código {codigo} já está cadastrado para outro produto.",
                        49,
                        NS,
                    )
                ],
                message="Não foi possível salvar o produto",
                description="O produto não pode ser salvo, pois ocorreram problemas em sua validação.",
            )


def _apply(prod: dict[str, Any], body: dict[str, Any]) -> None:
    for key, value in body.items():
        if key in IGNORED_ON_WRITE or value is None:
            continue
        if key == "categoria":
            prod["categoria"] = {"id": int(value.get("id") or 0)}
        elif key == "estoque":
            # saldoVirtualTotal is derived from balances; only the settings are writable.
            prod["estoque"].update({k: v for k, v in value.items() if k in ESTOQUE_DEFAULTS})
        else:
            prod[key] = copy.deepcopy(value)


def _write_response(pid: int, status: int = 200) -> Response:
    return Response(
        status,
        {
            "data": {
                "id": pid,
                "variations": {"deleted": [], "updated": [], "saved": []},
                "warnings": [],
            }
        },
    )


def _json_object(req: Request) -> dict[str, Any]:
    if req.json is None or req.json == {}:
        raise empty_body()
    return req.json


# ---------------------------------------------------------------- handlers


def list_products(fake: FakeBling, req: Request) -> Response:
    p = req.params
    cat = fake.catalog
    criterio = p.get("criterio", 1)
    tipo = p.get("tipo", "T")
    ids = set(p.get("idsProdutos[]", [])) or None
    codes = set(p.get("codigos[]", [])) or None
    gtins = set(p.get("gtins[]", [])) or None
    nome = p.get("nome", "").lower()
    inc_from = _fmt(p.get("dataInclusaoInicial"))
    inc_to = _fmt(p.get("dataInclusaoFinal"))
    alt_from = _fmt(p.get("dataAlteracaoInicial"))
    alt_to = _fmt(p.get("dataAlteracaoFinal"))
    stock_filter = stock_filter_of(fake, p)
    stock_deposit = p.get("filtroSaldoEstoqueDeposito")
    out = []
    for pid in sorted(cat.products):
        prod = cat.products[pid]
        sit = prod["situacao"]
        if (
            (criterio == 1 and sit == "E")
            or (criterio == 2 and sit != "A")
            or (criterio == 3 and sit != "I")
            or (criterio == 4 and sit != "E")
        ):
            continue
        if not _tipo_matches(tipo, prod):
            continue
        if "idComponente" in p and not _has_component(prod, p["idComponente"]):
            continue
        if ids is not None and pid not in ids:
            continue
        if codes is not None and prod["codigo"] not in codes:
            continue
        if gtins is not None and prod["gtin"] not in gtins:
            continue
        if nome and nome not in prod["nome"].lower():
            continue
        if "idCategoria" in p and (
            cat.category_of(prod) != p["idCategoria"]
            or (prod.get("idProdutoPai") and not fake.variations_in_category_lists)
        ):
            continue
        if inc_from and prod["dataInclusao"] < inc_from or inc_to and prod["dataInclusao"] > inc_to:
            continue
        if (
            alt_from
            and prod["dataAlteracao"] < alt_from
            or alt_to
            and prod["dataAlteracao"] > alt_to
        ):
            continue
        if stock_filter is not None:
            _, virtual = cat.totals(pid, stock_deposit)
            if not stock_passes(virtual, stock_filter):
                continue
        out.append(prod)
    return Response(200, {"data": [list_item(fake, prod) for prod in page(out, p)]})


def _fmt(value: Any) -> str | None:
    return value.strftime(DATETIME_FMT) if value is not None else None


def _tipo_matches(tipo: str, prod: dict[str, Any]) -> bool:
    if tipo == "T":
        return True
    if tipo in ("P", "S"):
        return prod["tipo"] == tipo
    if tipo == "E":
        return prod["formato"] == "E"
    if tipo == "PS":
        return prod["formato"] == "S" and not prod.get("idProdutoPai")
    if tipo == "C":
        return prod["formato"] == "V"
    return bool(prod.get("idProdutoPai"))  # "V": variations


def _has_component(prod: dict[str, Any], component_id: int) -> bool:
    comps = (prod.get("estrutura") or {}).get("componentes") or []
    return any((c.get("produto") or {}).get("id") == component_id for c in comps)


def get_product(fake: FakeBling, req: Request) -> Response:
    return Response(200, {"data": detail(fake, _get(fake, req.int_param("idProduto")))})


def get_variations(fake: FakeBling, req: Request) -> Response:
    return Response(200, {"data": detail(fake, _get(fake, req.int_param("idProdutoPai")))})


def create_product(fake: FakeBling, req: Request) -> Response:
    body = validate_body(_json_object(req), PUT_FIELDS, NS)
    check_unique_code(fake, None, body.get("codigo"))
    pid = fake.catalog.allocate("product")
    prod = new_record(pid)
    _apply(prod, body)
    fake.catalog.products[pid] = prod
    fake.emit_webhook("product.created", webhook_data(fake, prod))
    return _write_response(pid, 201)


def patch_product(fake: FakeBling, req: Request) -> Response:
    body = validate_body(_json_object(req), PRODUCT_FIELDS, NS)
    prod = _get(fake, req.int_param("idProduto"))
    check_unique_code(fake, prod["id"], body.get("codigo"))
    _apply(prod, body)
    fake.catalog.touch(prod["id"])
    fake.emit_webhook("product.updated", webhook_data(fake, prod))
    return _write_response(prod["id"])


def put_product(fake: FakeBling, req: Request) -> Response:
    body = validate_body(_json_object(req), PUT_FIELDS, NS)
    prod = _get(fake, req.int_param("idProduto"))
    check_unique_code(fake, prod["id"], body.get("codigo"))
    # Full replace: whatever the body omits goes back to its default (so a PUT carrying only a
    # few fields wipes the rest, as it would in Bling).
    keep_format = prod["formato"] if variations_of(fake, prod["id"]) else None
    prod.update(copy.deepcopy(DETAIL_DEFAULTS))
    prod["estoque"] = dict(ESTOQUE_DEFAULTS)
    if not prod.get("idProdutoPai"):
        prod["categoria"] = {"id": 0}
    _apply(prod, body)
    if keep_format and "formato" not in body:
        prod["formato"] = keep_format
    fake.catalog.touch(prod["id"])
    fake.emit_webhook("product.updated", webhook_data(fake, prod))
    return _write_response(prod["id"])


def set_situation(fake: FakeBling, req: Request) -> Response:
    body = validate_body(_json_object(req), SITUATION_FIELDS, NS)
    prod = _get(fake, req.int_param("idProduto"))
    prod["situacao"] = body["situacao"]
    fake.catalog.touch(prod["id"])
    # Setting "E" fires product.updated, not product.deleted (DOCS-wh).
    fake.emit_webhook("product.updated", webhook_data(fake, prod))
    return Response(204)


def set_situations(fake: FakeBling, req: Request) -> Response:
    body = validate_body(_json_object(req), BATCH_SITUATION_FIELDS, NS)
    ids = body["idsProdutos"]
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise validation_error([field("idsProdutos", "Lista de inteiros esperada.", namespace=NS)])
    alertas = []
    for pid in ids:
        prod = fake.catalog.products.get(pid)
        if prod is None:
            alertas.append({"id": pid, "error": not_found("Produto não encontrado.").body["error"]})
            continue
        prod["situacao"] = body["situacao"]
        fake.catalog.touch(pid)
        fake.emit_webhook("product.updated", webhook_data(fake, prod))
    if alertas:
        return Response(200, {"data": {"alertas": alertas}})
    return Response(204)


def delete_product(fake: FakeBling, req: Request) -> Response:
    prod = _get(fake, req.int_param("idProduto"))
    ids = [prod["id"]] + [v["id"] for v in variations_of(fake, prod["id"])]
    for pid in ids:
        fake.catalog.products.pop(pid, None)
        fake.catalog.balances.pop(pid, None)
        fake.emit_webhook("product.deleted", {"id": pid})
    return Response(204)


ROUTES = [
    Route("GET", "/produtos", list_products, LIST_PARAMS),
    Route("POST", "/produtos", create_product),
    Route("PATCH", "/produtos/{idProduto:int}/situacoes", set_situation),
    Route("POST", "/produtos/situacoes", set_situations),
    Route("GET", "/produtos/variacoes/{idProdutoPai:int}", get_variations),
    Route("GET", "/produtos/{idProduto:int}", get_product),
    Route("PATCH", "/produtos/{idProduto:int}", patch_product),
    Route("PUT", "/produtos/{idProduto:int}", put_product),
    Route("DELETE", "/produtos/{idProduto:int}", delete_product),
]
