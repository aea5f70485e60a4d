"""Fake Bling: stock balances and postings, deposits, sales orders, situations, company."""

from __future__ import annotations

import datetime as dt

from tests.fakebling import FakeBling
from tests.fakebling.testing import Api, api_fixture, fake_fixture

fake = fake_fixture()
api = api_fixture()


def test_balances_without_a_stock_filter_leave_zero_and_negative_out(
    fake: FakeBling, api: Api
) -> None:
    """Bling's OpenAPI default on both balance endpoints: filtroSaldoEstoque=1 when omitted."""
    positive = fake.add_product("A", stock=5)
    zero = fake.add_product("B")
    negative = fake.add_product("C", stock=-2)
    ids = [positive["id"], zero["id"], negative["id"]]
    second = fake.add_deposit("Loja", padrao=False)
    fake.set_stock(zero["id"], 3, deposit_id=second["id"])

    def answered(path: str, **params) -> list[int]:
        resp = api.get(path, params={"idsProdutos[]": ids, **params})
        assert resp.status_code == 200, resp.text
        return [d["produto"]["id"] for d in resp.json()["data"]]

    assert answered("/estoques/saldos") == [positive["id"], zero["id"]]
    assert answered("/estoques/saldos", filtroSaldoEstoque=2) == [negative["id"]]
    default_deposit = f"/estoques/saldos/{fake.catalog.default_deposit_id()}"
    assert answered(default_deposit) == [positive["id"]]
    assert answered(default_deposit, filtroSaldoEstoque=0) == [zero["id"]]
    assert answered(f"/estoques/saldos/{second['id']}") == [zero["id"]]
    fake.stock_filter_default = None
    assert answered(default_deposit) == ids


def test_get_estoques_is_404(fake: FakeBling, api: Api) -> None:
    for params in ({}, {"idProduto": 1}):
        resp = api.get("/estoques", params=params)
        assert resp.status_code == 404
        assert resp.json()["error"]["type"] == "RESOURCE_NOT_FOUND"
    assert api.get("/estoques/123").status_code == 404
    assert api.delete("/categorias/produtos").status_code == 404


def test_balances(fake: FakeBling, api: Api) -> None:
    # About the shape of every balance, zero ones included: the lenient reading of an omitted
    # filtroSaldoEstoque (the default is pinned in the next test).
    fake.stock_filter_default = None
    a = fake.add_product("A", codigo="A1", stock=5)
    b = fake.add_product("B", codigo="B1")
    second = fake.add_deposit("Loja", padrao=False)
    fake.set_stock(a["id"], 2, deposit_id=second["id"], virtual=1)
    missing = api.get("/estoques/saldos")
    assert missing.status_code == 400
    assert missing.json()["error"]["fields"][0]["element"] == "idsProdutos[]"
    data = api.get("/estoques/saldos", params={"idsProdutos[]": [a["id"], b["id"], 99]}).json()[
        "data"
    ]
    assert data[0] == {
        "produto": {"id": a["id"], "codigo": "A1"},
        "saldoFisicoTotal": 7.0,
        "saldoVirtualTotal": 6.0,
        "depositos": [
            {"id": fake.catalog.default_deposit_id(), "saldoFisico": 5.0, "saldoVirtual": 5.0},
            {"id": second["id"], "saldoFisico": 2.0, "saldoVirtual": 1.0},
        ],
    }
    assert data[1]["saldoFisicoTotal"] == 0.0 and len(data) == 2
    zero = api.get(
        "/estoques/saldos", params={"idsProdutos[]": [a["id"], b["id"]], "filtroSaldoEstoque": 0}
    )
    assert [d["produto"]["id"] for d in zero.json()["data"]] == [b["id"]]
    per_dep = api.get(
        f"/estoques/saldos/{second['id']}", params={"idsProdutos[]": [a["id"]]}
    ).json()["data"]
    assert per_dep == [
        {
            "produto": {"id": a["id"], "codigo": "A1"},
            "saldoFisicoTotal": 2.0,
            "saldoVirtualTotal": 1.0,
        }
    ]
    assert api.get("/estoques/saldos/5", params={"idsProdutos[]": [a["id"]]}).status_code == 404
    deps = api.get("/depositos").json()["data"]
    assert [d["padrao"] for d in deps] == [True, False]


def test_stock_postings(fake: FakeBling, api: Api) -> None:
    p = fake.add_product("A", stock=10)
    dep = fake.catalog.default_deposit_id()
    fake.set_stock(p["id"], 10, virtual=8)  # 2 reserved

    def post(op: str, qty: float):
        body = {
            "produto": {"id": p["id"]},
            "deposito": {"id": dep},
            "operacao": op,
            "quantidade": qty,
        }
        return api.post("/estoques", json=body)

    created = post("S", 3)
    assert created.status_code == 201 and isinstance(created.json()["data"]["id"], int)
    assert fake.balances[p["id"]][dep] == {"fisico": 7.0, "virtual": 5.0}
    assert post("E", 1).status_code == 201
    assert post("B", 0).status_code == 201
    assert fake.balances[p["id"]][dep] == {"fisico": 0.0, "virtual": -2.0}
    assert [s["operacao"] for s in fake.stock_postings] == ["S", "E", "B"]
    assert post("X", 1).status_code == 400
    bad = api.post(
        "/estoques",
        json={"produto": {"id": 1}, "deposito": {"id": dep}, "operacao": "E", "quantidade": 1},
    )
    assert bad.status_code == 400 and bad.json()["error"]["fields"][0]["element"] == "produto.id"
    no_qty = api.post(
        "/estoques", json={"produto": {"id": p["id"]}, "deposito": {"id": dep}, "operacao": "E"}
    )
    assert no_qty.status_code == 400
    assert api.post("/estoques", json={**fake.stock_postings[0], "extra": 1}).status_code == 400
    assert len(fake.stock_postings) == 3


def test_orders_list_and_detail(fake: FakeBling, api: Api) -> None:
    a = fake.add_product("A", codigo="A1")
    b = fake.add_product("B")
    today = dt.date.today().isoformat()
    o1 = fake.add_order(items=[(a["id"], 2), (b["id"], 1)], situacao_id=9)
    o2 = fake.add_order(
        items=[(a["id"], 1)],
        situacao_id=12,
        data="2024-01-10",
        data_alteracao="2024-01-10 12:00:00",
    )
    listed = api.get("/pedidos/vendas").json()["data"]
    assert [o["id"] for o in listed] == [o1["id"], o2["id"]]
    assert "itens" not in listed[0] and listed[0]["situacao"]["id"] == 9
    only9 = api.get("/pedidos/vendas", params={"idsSituacoes[]": [9]}).json()["data"]
    assert [o["id"] for o in only9] == [o1["id"]]
    by_day = api.get("/pedidos/vendas", params={"dataInicial": today, "dataFinal": today}).json()[
        "data"
    ]
    assert [o["id"] for o in by_day] == [o1["id"]]
    window = {
        "dataAlteracaoInicial": "2024-01-10 00:00:00",
        "dataAlteracaoFinal": "2024-01-11 00:00:00",
    }
    assert [o["id"] for o in api.get("/pedidos/vendas", params=window).json()["data"]] == [o2["id"]]
    detail = api.get(f"/pedidos/vendas/{o1['id']}").json()["data"]
    items = [(i["produto"]["id"], i["quantidade"], i["codigo"]) for i in detail["itens"]]
    assert items == [(a["id"], 2, "A1"), (b["id"], 1, "")]
    assert api.get("/pedidos/vendas/1").status_code == 404
    assert api.get("/pedidos/vendas", params={"idProduto": a["id"]}).status_code == 400


def test_order_situations_and_company(fake: FakeBling, api: Api) -> None:
    modules = api.get("/situacoes/modulos").json()["data"]
    vendas = next(m for m in modules if m["nome"] == "Vendas")
    assert vendas["descricao"] == "Pedidos de Venda"
    sits = api.get(f"/situacoes/modulos/{vendas['id']}").json()["data"]
    assert {s["id"]: s["nome"] for s in sits} == {
        6: "Em aberto",
        9: "Atendido",
        12: "Cancelado",
        15: "Em andamento",
        452827: "Enviado ao marketplace",  # the account's own, inheriting "Em aberto"
    }
    inherited = {s["id"]: s["idHerdado"] for s in sits}
    assert inherited == {6: 0, 9: 0, 12: 0, 15: 0, 452827: 6}
    assert all(s["cor"].startswith("#") for s in sits)
    fake.order_situations[24] = "Verificado"
    assert len(api.get(f"/situacoes/modulos/{vendas['id']}").json()["data"]) == 6
    company = api.get("/empresas/me/dados-basicos").json()["data"]
    assert company["id"] == fake.company_id and company["nome"] == "Loja Teste"
