"""Fake Bling: /nfe and /nfce per Bling's OpenAPI document, the Situações scope knob."""

from __future__ import annotations

from tests.fakebling import FakeBling
from tests.fakebling.testing import Api, api_fixture, fake_fixture

fake = fake_fixture()
api = api_fixture()


def _invoices(fake: FakeBling) -> dict[str, int]:
    fake.add_product("A", codigo="A1", stock=5)
    return {
        "saida": fake.add_invoice(items=[("A1", 1)], data_emissao="2026-11-02 10:00:00")["id"],
        "entrada": fake.add_invoice(items=[("A1", 1)], tipo=0)["id"],
        "cancelada": fake.add_invoice(items=[("A1", 1)], situacao=2)["id"],
        "nfce": fake.add_invoice(kind="nfce", items=[("A1", 2)], numero="77")["id"],
    }


def test_nfe_list_defaults_to_outgoing_and_leaves_cancelled_out(fake: FakeBling, api: Api):
    ids = _invoices(fake)
    listed = [i["id"] for i in api.get("/nfe").json()["data"]]
    assert listed == [ids["saida"]]  # tipo defaults to "1"; cancelled only when asked
    assert [i["id"] for i in api.get("/nfe", params={"tipo": "0"}).json()["data"]] == [
        ids["entrada"]
    ]
    cancelled = api.get("/nfe", params={"situacao": 2}).json()["data"]
    assert [i["id"] for i in cancelled] == [ids["cancelada"]]
    item = api.get("/nfe").json()["data"][0]
    assert set(item) == {
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
    }
    window = {"dataEmissaoInicial": "2026-11-01 00:00:00", "dataEmissaoFinal": "2026-11-03"}
    assert [i["id"] for i in api.get("/nfe", params=window).json()["data"]] == [ids["saida"]]


def test_invoice_details_carry_codes_not_product_ids(fake: FakeBling, api: Api):
    ids = _invoices(fake)
    detail = api.get(f"/nfce/{ids['nfce']}").json()["data"]
    assert detail["numero"] == "77"
    assert detail["itens"][0]["codigo"] == "A1" and detail["itens"][0]["quantidade"] == 2
    assert "produto" not in detail["itens"][0]
    assert api.get("/nfce/1").status_code == 404
    assert api.get(f"/nfe/{ids['nfce']}").status_code == 404  # NF-e and NFC-e are apart


def test_params_outside_the_openapi_document_are_refused(fake: FakeBling, api: Api):
    for path, params in [
        ("/nfce", {"tipo": "1"}),  # /nfce has no tipo
        ("/nfce", {"numeroLoja": "1"}),
        ("/nfe", {"tipo": "2"}),
        ("/nfe", {"situacao": 12}),  # 12 is only in the NFC-e enum
        ("/nfe", {"dataAlteracaoInicial": "2026-11-01 00:00:00"}),
        ("/nfe", {"limite": 101}),
    ]:
        resp = api.get(path, params=params)
        assert resp.status_code == 400, (path, params)
        assert resp.json()["error"]["type"] == "VALIDATION_ERROR"
    assert api.get("/nfce", params={"situacao": 12}).status_code == 200


def test_situacoes_refused_without_the_scope(fake: FakeBling, api: Api):
    assert api.get("/situacoes/modulos").status_code == 200
    fake.situations_forbidden = True
    for path in ("/situacoes/modulos", "/situacoes/modulos/98310"):
        resp = api.get(path)
        assert resp.status_code == 403
        assert resp.json()["error"]["type"] == "insufficient_scope"


def test_orders_link_their_invoice_and_carry_the_situation_value(fake: FakeBling, api: Api):
    a = fake.add_product("A", codigo="A1")["id"]
    order = fake.add_order(items=[(a, 1)], situacao_id=12)
    nfe = fake.add_invoice(items=[(a, 1)], order_id=order["id"])
    detail = api.get(f"/pedidos/vendas/{order['id']}").json()["data"]
    assert detail["notaFiscal"] == {"id": nfe["id"]}
    assert detail["situacao"] == {"id": 12, "valor": 2}
