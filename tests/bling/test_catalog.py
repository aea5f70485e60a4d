"""Typed catalog calls against the fake: what is sent, what comes back, what the fake holds."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from blingsync.bling import catalog
from blingsync.bling.errors import BlingNotFound


def test_products_page_translates_list_items(fake_bling, bling_connected):
    p1 = fake_bling.add_product("Caderno", codigo="NTB-1", stock=3)
    fake_bling.add_product("Lápis")
    products = list(catalog.products_all_stock_iter(page_size=100))
    by_id = {p.id: p for p in products}
    assert by_id[p1["id"]].code == "NTB-1"
    assert by_id[p1["id"]].available_stock == Decimal("3")
    assert by_id[p1["id"]].situation == "A"
    assert len(products) == 2
    calls = fake_bling.calls(path="/produtos")
    assert {c.query["criterio"][0] for c in calls} == {"5"}
    # Every stock state is asked: Bling's default (omitted) lists positive stock only.
    assert [c.query["filtroSaldoEstoque"] for c in calls] == [["1"], ["0"], ["2"]]


def test_products_by_ids_finds_any_stock_and_asks_only_for_the_missing_ones(
    fake_bling, bling_connected
):
    stocked = fake_bling.add_product("Caderno", stock=3)["id"]
    sold_out = fake_bling.add_product("Lápis")["id"]
    oversold = fake_bling.add_product("Borracha", stock=-1)["id"]
    found = catalog.products_by_ids(product_ids=[stocked, sold_out, oversold, 999])
    assert sorted(found) == [stocked, sold_out, oversold]
    calls = fake_bling.calls(path="/produtos")
    assert [c.query["filtroSaldoEstoque"] for c in calls] == [["1"], ["0"], ["2"]]
    assert [len(c.query["idsProdutos[]"]) for c in calls] == [4, 3, 2]
    with fake_bling.lock:
        fake_bling.requests.clear()
    assert list(catalog.products_by_ids(product_ids=[stocked])) == [stocked]
    assert len(fake_bling.calls(path="/produtos")) == 1


def test_products_iter_pages_until_a_short_page(fake_bling, bling_connected):
    for n in range(5):
        fake_bling.add_product(f"Produto {n}", stock=1)
    products = list(catalog.products_iter(page_size=2, stock_filter=catalog.STOCK_POSITIVE))
    assert len(products) == 5
    assert [c.query["pagina"] for c in fake_bling.calls(path="/produtos")] == [["1"], ["2"], ["3"]]


def test_products_iter_sends_filters_as_bling_names_them(fake_bling, bling_connected):
    cat = fake_bling.add_category("Papelaria")
    since = timezone.now() - timedelta(days=1)
    list(
        catalog.products_iter(
            criterio=catalog.PRODUCTS_ACTIVE,
            category_id=cat["id"],
            changed_since=since,
            product_ids=[1, 2],
            stock_filter=catalog.STOCK_ZERO,
        )
    )
    (call,) = fake_bling.calls(path="/produtos")
    assert call.status == 200
    assert call.query["idsProdutos[]"] == ["1", "2"]
    assert call.query["idCategoria"] == [str(cat["id"])]
    assert len(call.query["dataAlteracaoInicial"][0]) == len("2026-01-01 10:00:00")


def test_product_get_has_category_and_variations(fake_bling, bling_connected):
    cat = fake_bling.add_category("Roupas")
    parent = fake_bling.add_product("Camiseta", categoria_id=cat["id"])
    var = fake_bling.add_variation(parent["id"], "Camiseta Tamanho:G", codigo="CAM-G")
    product = catalog.product_get(product_id=parent["id"])
    assert product.category_id == cat["id"]
    assert product.format == "V"
    (variation,) = product.variations
    assert variation.id == var["id"]
    assert variation.parent_id == parent["id"]
    assert variation.code == "CAM-G"


def test_product_get_raises_not_found(fake_bling, bling_connected):
    with pytest.raises(BlingNotFound):
        catalog.product_get(product_id=123)


def test_product_code_set_patches_only_the_code(fake_bling, bling_connected):
    pid = fake_bling.add_product("Caderno", preco=9.9)["id"]
    catalog.product_code_set(product_id=pid, code="PAP00001")
    assert fake_bling.products[pid]["codigo"] == "PAP00001"
    assert fake_bling.products[pid]["preco"] == 9.9
    (call,) = fake_bling.calls(method="PATCH", path=f"/produtos/{pid}")
    assert call.json == {"codigo": "PAP00001"}


def test_situations_single_and_batch(fake_bling, bling_connected):
    a = fake_bling.add_product("A")["id"]
    b = fake_bling.add_product("B")["id"]
    catalog.product_situation_set(product_id=a, situation="I")
    assert fake_bling.products[a]["situacao"] == "I"
    alerts = catalog.products_situation_set(product_ids=[a, b, 999], situation="I")
    assert fake_bling.products[b]["situacao"] == "I"
    assert [alert.product_id for alert in alerts] == [999]


def test_products_with_codes_finds_any_situation(fake_bling, bling_connected):
    pid = fake_bling.add_product("Velho", codigo="PAP00007", situacao="I")["id"]
    fake_bling.add_product("Outro", codigo="PAP00008")
    found = catalog.products_with_codes(codes=["PAP00007", "PAP00009"])
    assert [p.id for p in found] == [pid]


def test_categories_iter_walks_parents(fake_bling, bling_connected):
    top = fake_bling.add_category("Peças")
    child = fake_bling.add_category("Placa Mãe", parent_id=top["id"])
    cats = {c.id: c for c in catalog.categories_iter()}
    assert cats[top["id"]].parent_id is None
    assert cats[child["id"]].parent_id == top["id"]
    assert cats[child["id"]].description == "Placa Mãe"


def test_stock_balances_reports_physical_and_available(fake_bling, bling_connected):
    pid = fake_bling.add_product("Caderno")["id"]
    fake_bling.set_stock(pid, 5, virtual=3)
    (balance,) = catalog.stock_balances(product_ids=[pid])
    assert balance.product_id == pid
    assert balance.physical_total == Decimal("5")
    assert balance.available_total == Decimal("3")
    assert balance.deposits[0].physical == Decimal("5")


def test_stock_balances_answer_zero_and_negative_balances_too(fake_bling, bling_connected):
    stocked = fake_bling.add_product("Caderno", stock=2)["id"]
    sold_out = fake_bling.add_product("Lápis")["id"]
    oversold = fake_bling.add_product("Borracha", stock=-1)["id"]
    other = fake_bling.add_deposit("Loja", padrao=False)["id"]
    fake_bling.set_stock(sold_out, 4, deposit_id=other)
    default = fake_bling.catalog.default_deposit_id()
    balances = {
        b.product_id: b.available_total
        for b in catalog.stock_balances(
            product_ids=[stocked, sold_out, oversold], deposit_id=default
        )
    }
    assert balances == {stocked: Decimal("2"), sold_out: Decimal("0"), oversold: Decimal("-1")}
    calls = fake_bling.calls(prefix="/estoques/saldos")
    assert [c.query["filtroSaldoEstoque"] for c in calls] == [["1"], ["0"], ["2"]]
    assert {c.path for c in calls} == {f"/estoques/saldos/{default}"}
    # Unknown ids: asked twice over the three states, then absent.
    with fake_bling.lock:
        fake_bling.requests.clear()
    assert catalog.stock_balances(product_ids=[999]) == []
    assert len(fake_bling.calls(prefix="/estoques/saldos")) == 6


def test_orders_iter_and_order_get(fake_bling, bling_connected):
    pid = fake_bling.add_product("Caderno", codigo="NTB-1")["id"]
    order = fake_bling.add_order(items=[(pid, 2)], situacao_id=9)
    summaries = list(catalog.orders_iter(changed_since=timezone.now() - timedelta(days=1)))
    assert [s.id for s in summaries] == [order["id"]]
    assert summaries[0].situation_id == 9
    detail = catalog.order_get(order_id=order["id"])
    (item,) = detail.items
    assert item.product_id == pid
    assert item.quantity == Decimal("2")
    assert item.code == "NTB-1"


def test_orders_iter_splits_spans_longer_than_a_year(fake_bling, bling_connected):
    list(catalog.orders_iter(changed_since=timezone.now() - timedelta(days=500)))
    calls = fake_bling.calls(path="/pedidos/vendas")
    assert len(calls) == 2
    assert all(c.status == 200 for c in calls)


def test_order_situations_resolves_the_sales_module(fake_bling, bling_connected):
    names = {s.id: s.name for s in catalog.order_situations()}
    assert names[9] == "Atendido"


def test_company_get(fake_bling, bling_connected):
    company = catalog.company_get()
    assert company.id == fake_bling.company_id
    assert company.name == "Loja Teste"
