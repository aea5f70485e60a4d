"""Fake Bling: /produtos list/detail/write, situations, categories, validation."""

from __future__ import annotations

from tests.fakebling import FakeBling
from tests.fakebling.testing import Api, api_fixture, fake_fixture

fake = fake_fixture()
api = api_fixture()


def _ids(resp) -> list[int]:
    assert resp.status_code == 200, resp.text
    return [item["id"] for item in resp.json()["data"]]


def test_list_shape_and_variations(fake: FakeBling, api: Api) -> None:
    cat = fake.add_category("Roupas")
    simple = fake.add_product("Caderno", codigo="NTB-1", stock=3, preco=19.9)
    parent = fake.add_product("Camiseta", categoria_id=cat["id"])
    var = fake.add_variation(parent["id"], "Camiseta G", codigo="CAM-G", stock=2)
    data = api.get("/produtos").json()["data"]
    assert [d["id"] for d in data] == [simple["id"], parent["id"], var["id"]]
    item = data[0]
    assert "categoria" not in item and "idProdutoPai" not in item
    assert item["estoque"] == {"saldoVirtualTotal": 3.0}
    assert item["codigo"] == "NTB-1" and item["preco"] == 19.9
    assert data[2]["idProdutoPai"] == parent["id"]
    assert fake.product(parent["id"])["formato"] == "V"
    # Variations match idCategoria through their parent.
    assert _ids(api.get("/produtos", params={"idCategoria": cat["id"]})) == [
        parent["id"],
        var["id"],
    ]
    assert _ids(api.get("/produtos", params={"tipo": "V"})) == [var["id"]]

    detail = api.get(f"/produtos/{parent['id']}").json()["data"]
    assert detail["categoria"] == {"id": cat["id"]}
    assert detail["estoque"]["saldoVirtualTotal"] == 2.0
    assert detail["variacoes"][0]["variacao"]["produtoPai"]["id"] == parent["id"]
    assert detail["variacoes"][0]["categoria"] == {"id": cat["id"]}
    missing = api.get("/produtos/1")
    assert missing.status_code == 404
    assert missing.json()["error"]["type"] == "RESOURCE_NOT_FOUND"


def test_list_filters_and_pagination(fake: FakeBling, api: Api) -> None:
    # About the other filters and paging over zero-stock products too: the lenient reading
    # of an omitted filtroSaldoEstoque (the default is pinned in the next test).
    fake.stock_filter_default = None
    prods = [fake.add_product(f"P{i}", codigo=f"C{i}", stock=i % 3) for i in range(7)]
    fake.add_product("Inativo", situacao="I")
    ids = [p["id"] for p in prods]
    pages = [
        _ids(api.get("/produtos", params={"pagina": n, "limite": 3, "criterio": 2}))
        for n in (1, 2, 3, 4)
    ]
    assert pages == [ids[:3], ids[3:6], ids[6:], []]
    assert _ids(api.get("/produtos", params={"idsProdutos[]": [ids[1], ids[4]]})) == [
        ids[1],
        ids[4],
    ]
    assert _ids(api.get("/produtos", params={"codigos[]": ["C2", "C5"]})) == [ids[2], ids[5]]
    zero = _ids(api.get("/produtos", params={"criterio": 2, "filtroSaldoEstoque": 0}))
    assert zero == [ids[0], ids[3], ids[6]]
    assert len(_ids(api.get("/produtos", params={"criterio": 3}))) == 1
    assert len(_ids(api.get("/produtos", params={"criterio": 5}))) == 8
    old = fake.add_product("Antigo", data_alteracao="2020-01-01 10:00:00")
    window = {
        "dataAlteracaoInicial": "2020-01-01 00:00:00",
        "dataAlteracaoFinal": "2020-06-01 00:00:00",
    }
    assert _ids(api.get("/produtos", params=window)) == [old["id"]]
    assert _ids(api.get("/produtos", params={"nome": "antig"})) == [old["id"]]


def test_an_omitted_stock_filter_lists_positive_stock_only(fake: FakeBling, api: Api) -> None:
    """Bling's OpenAPI default: filtroSaldoEstoque=1 when omitted (bling-v3.md 4.1)."""
    positive = fake.add_product("Com estoque", stock=2)
    zero = fake.add_product("Sem estoque")
    negative = fake.add_product("Vendido a mais", stock=-1)
    inactive_zero = fake.add_product("Inativo zerado", situacao="I")
    assert _ids(api.get("/produtos")) == [positive["id"]]
    assert _ids(api.get("/produtos", params={"criterio": 5})) == [positive["id"]]
    assert _ids(api.get("/produtos", params={"idsProdutos[]": [zero["id"], negative["id"]]})) == []
    by_state = {
        state: _ids(api.get("/produtos", params={"criterio": 5, "filtroSaldoEstoque": state}))
        for state in (0, 1, 2)
    }
    assert by_state == {
        0: [zero["id"], inactive_zero["id"]],
        1: [positive["id"]],
        2: [negative["id"]],
    }
    # The deposit filter narrows the balance the stock filter looks at.
    other = fake.add_deposit("Loja", padrao=False)
    fake.set_stock(zero["id"], 4, deposit_id=other["id"])
    assert _ids(api.get("/produtos", params={"criterio": 5})) == [positive["id"], zero["id"]]
    in_default = {"criterio": 5, "filtroSaldoEstoqueDeposito": fake.catalog.default_deposit_id()}
    assert _ids(api.get("/produtos", params=in_default)) == [positive["id"]]
    # The knob: the lenient reading (no filter) for tests about something else.
    fake.stock_filter_default = None
    assert len(_ids(api.get("/produtos", params={"criterio": 5}))) == 4
    fake.reset()
    assert fake.stock_filter_default == 1


def test_list_validation(fake: FakeBling, api: Api) -> None:
    unknown = api.get("/produtos", params={"idsProdutos": 1})  # missing []
    assert unknown.status_code == 400
    err = unknown.json()["error"]
    assert err["type"] == "VALIDATION_ERROR" and err["fields"][0]["element"] == "idsProdutos"
    assert api.get("/produtos", params={"limite": 101}).status_code == 400
    assert api.get("/produtos", params={"tipo": "X"}).status_code == 400
    assert api.get("/produtos", params={"pagina": "a"}).status_code == 400
    too_long = {
        "dataAlteracaoInicial": "2024-01-01 00:00:00",
        "dataAlteracaoFinal": "2025-06-01 00:00:00",
    }
    assert api.get("/produtos", params=too_long).status_code == 400
    assert api.get("/produtos", params={"dataAlteracaoInicial": "01/01/2024"}).status_code == 400
    assert api.get("/produtos/1", params={"x": 1}).status_code == 400


def test_patch_codigo_and_duplicate_refused(fake: FakeBling, api: Api) -> None:
    a = fake.add_product("A", codigo="SKU-A")
    b = fake.add_product("B")
    fake.product(b["id"])["dataAlteracao"] = "2020-01-01 00:00:00"
    ok = api.patch(f"/produtos/{b['id']}", json={"codigo": "SKU-B"})
    assert ok.status_code == 200
    assert ok.json() == {
        "data": {
            "id": b["id"],
            "variations": {"deleted": [], "updated": [], "saved": []},
            "warnings": [],
        }
    }
    assert fake.product(b["id"])["codigo"] == "SKU-B"
    assert fake.product(b["id"])["dataAlteracao"] > "2020-01-01 00:00:00"
    dup = api.patch(f"/produtos/{b['id']}", json={"codigo": "SKU-A"})
    assert dup.status_code == 400
    assert dup.json()["error"]["fields"][0]["element"] == "codigo"
    assert fake.product(b["id"])["codigo"] == "SKU-B"
    fake.unique_codes = False
    assert api.patch(f"/produtos/{b['id']}", json={"codigo": "SKU-A"}).status_code == 200
    assert fake.product(a["id"])["codigo"] == "SKU-A"
    # Unknown field, wrong type, wrong enum.
    assert api.patch(f"/produtos/{b['id']}", json={"sku": "x"}).status_code == 400
    assert api.patch(f"/produtos/{b['id']}", json={"codigo": 12}).status_code == 400
    assert api.patch(f"/produtos/{b['id']}", json={"situacao": "X"}).status_code == 400
    assert api.patch("/produtos/1", json={"codigo": "Z"}).status_code == 404


def test_put_requires_full_body(fake: FakeBling, api: Api) -> None:
    p = fake.add_product("Caneta", codigo="OLD", marca="Bic")
    partial = api.put(f"/produtos/{p['id']}", json={"codigo": "NEW"})
    assert partial.status_code == 400
    assert partial.json()["error"]["type"] == "MISSING_REQUIRED_FIELD_ERROR"
    elements = {f["element"] for f in partial.json()["error"]["fields"]}
    assert elements == {"nome", "tipo", "situacao", "formato"}
    full = {"nome": "Caneta azul", "tipo": "P", "situacao": "A", "formato": "S", "codigo": "NEW"}
    assert api.put(f"/produtos/{p['id']}", json=full).status_code == 200
    rec = fake.product(p["id"])
    assert (rec["nome"], rec["codigo"], rec["marca"]) == ("Caneta azul", "NEW", "")


def test_situations_single_and_batch(fake: FakeBling, api: Api) -> None:
    # In stock, so that the listings below (Bling's default: positive stock only) show them.
    a = fake.add_product("A", stock=1)
    b = fake.add_product("B", stock=1)
    resp = api.patch(f"/produtos/{a['id']}/situacoes", json={"situacao": "I"})
    assert resp.status_code == 204 and resp.content == b""
    assert fake.product(a["id"])["situacao"] == "I"
    assert api.patch(f"/produtos/{a['id']}/situacoes", json={"situacao": "Z"}).status_code == 400
    assert api.patch("/produtos/5/situacoes", json={"situacao": "A"}).status_code == 404
    batch = api.post(
        "/produtos/situacoes", json={"idsProdutos": [a["id"], b["id"]], "situacao": "E"}
    )
    assert batch.status_code == 204
    assert _ids(api.get("/produtos", params={"criterio": 4})) == [a["id"], b["id"]]
    assert _ids(api.get("/produtos")) == []  # criterio 1 leaves excluded products out
    partial = api.post("/produtos/situacoes", json={"idsProdutos": [a["id"], 777], "situacao": "A"})
    assert partial.status_code == 200
    alertas = partial.json()["data"]["alertas"]
    assert alertas[0]["id"] == 777 and alertas[0]["error"]["type"] == "RESOURCE_NOT_FOUND"
    assert fake.product(a["id"])["situacao"] == "A"


def test_create_and_delete(fake: FakeBling, api: Api) -> None:
    created = api.post(
        "/produtos", json={"nome": "Novo", "tipo": "P", "situacao": "A", "formato": "S"}
    )
    assert created.status_code == 201
    pid = created.json()["data"]["id"]
    assert fake.product(pid)["nome"] == "Novo"
    assert api.delete(f"/produtos/{pid}").status_code == 204
    assert pid not in fake.products
    assert api.delete(f"/produtos/{pid}").status_code == 404


def test_categories(fake: FakeBling, api: Api) -> None:
    top = fake.add_category("Papelaria")
    child = fake.add_category("Cadernos", parent_id=top["id"])
    data = api.get("/categorias/produtos", params={"pagina": 1, "limite": 100}).json()["data"]
    assert data == [
        {"id": top["id"], "descricao": "Papelaria", "categoriaPai": {"id": 0}},
        {"id": child["id"], "descricao": "Cadernos", "categoriaPai": {"id": top["id"]}},
    ]
    one = api.get(f"/categorias/produtos/{child['id']}").json()["data"]
    assert one["categoriaPai"] == {"id": top["id"]}
    assert api.get("/categorias/produtos/1").status_code == 404
    assert api.get("/categorias/produtos", params={"descricao": "x"}).status_code == 400


def test_generate_catalog(fake: FakeBling, api: Api) -> None:
    stats = fake.generate_catalog(
        products=500, categories=10, share_without_code=0.2, share_sold_out=0.1, seed=3
    )
    assert len(fake.products) == 500 and len(fake.categories) == 10
    assert (
        sum(1 for p in fake.products.values() if p["codigo"] == "") == stats["without_code"] == 100
    )
    # 450 of the 500 have stock: Bling's default filter (positive) gives 4 full pages and a
    # short one.
    assert len(_ids(api.get("/produtos", params={"limite": 100, "pagina": 4}))) == 100
    assert len(_ids(api.get("/produtos", params={"limite": 100, "pagina": 5}))) == 50
    zero = _ids(api.get("/produtos", params={"filtroSaldoEstoque": 0, "limite": 100}))
    assert len(zero) == 50
