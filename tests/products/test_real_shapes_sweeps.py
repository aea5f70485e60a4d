"""What real Bling accounts send (bling-v3.md 9b), through the sweeps: excluded products in the
listings, balances posted by hand, orders in a situation of the account's own with 16-digit
numbers and integer totals. Assertions are on what the fake Bling ends up holding."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command

from blingsync.models import JobRun
from products.evidence import order_record
from products.models import CodeAssignment, ProductStockState, SaleLine
from tests.fakebling.state import ACCOUNT_SITUATION_ID, ORDER_NUMBER_START
from tests.products.soldout_support import mode_live, moment, situation_writes, stock_posting

pytestmark = pytest.mark.django_db


def _stocked(fake, category_id: int, name: str, code: str, quantity: float) -> int:
    """A product that came into stock two hours ago (an entry, E)."""
    pid = fake.add_product(name, codigo=code, categoria_id=category_id)["id"]
    stock_posting(fake, pid, "E", quantity, at=moment(120))
    return pid


def _run(command: str, kind: str) -> JobRun:
    call_command(command, stdout=StringIO())
    return JobRun.objects.filter(kind=kind).latest("id")


def test_the_code_sweep_lists_excluded_products_and_never_codes_them(fake_bling, tree):
    mode_live()
    active = fake_bling.add_product("Memória ativa", categoria_id=tree.memoria)["id"]
    excluded = [
        fake_bling.add_product(f"Memória excluída {n}", categoria_id=tree.memoria, situacao="E")[
            "id"
        ]
        for n in range(3)
    ]

    run = _run("sweep_codes", "codes")

    assert run.status == JobRun.Status.SUCCEEDED
    assert re.fullmatch(r"MEMO\d{5}", fake_bling.products[active]["codigo"])
    # Listed (the sweep asks for every situation, criterio=5) but never written.
    assert all(c.query.get("criterio") == ["5"] for c in fake_bling.calls(path="/produtos"))
    assert all(fake_bling.products[pid]["codigo"] == "" for pid in excluded)
    patched = {int(c.path.split("/")[2]) for c in fake_bling.calls(method="PATCH")}
    assert patched == {active}
    assert not CodeAssignment.objects.filter(bling_product_id__in=excluded).exists()


def test_the_stock_sweep_neither_deactivates_nor_reactivates_excluded_products(fake_bling, tree):
    mode_live()
    sold = _stocked(fake_bling, tree.memoria, "Vendida e excluída", "MEMO00400", 1)
    order = fake_bling.add_order(items=[(sold, 1)])
    order_record(order_id=order["id"])
    stock_posting(fake_bling, sold, "S", 1)
    fake_bling.products[sold]["situacao"] = "E"
    ours = fake_bling.add_product("Nossa e excluída", codigo="MEMO00401", categoria_id=tree.memoria)
    ours = ours["id"]
    fake_bling.products[ours]["situacao"] = "E"
    fake_bling.set_stock(ours, 4)
    ProductStockState.objects.create(
        bling_product_id=ours, situation="I", deactivated_by_blingsync=True
    )

    run = _run("sweep_stock", "stock")

    assert run.status == JobRun.Status.SUCCEEDED
    assert fake_bling.products[sold]["situacao"] == "E"
    assert fake_bling.products[ours]["situacao"] == "E"
    assert not situation_writes(fake_bling)


def test_the_stock_sweep_keeps_a_product_zeroed_by_a_balance(fake_bling, tree):
    mode_live()
    pid = _stocked(fake_bling, tree.memoria, "Ajustada", "MEMO00402", 3)
    order = fake_bling.add_order(items=[(pid, 1)])
    order_record(order_id=order["id"])
    stock_posting(fake_bling, pid, "B", 0)  # arrives as stock.created, operacao B

    run = _run("sweep_stock", "stock")

    assert run.status == JobRun.Status.SUCCEEDED
    assert fake_bling.products[pid]["situacao"] == "A"
    assert not situation_writes(fake_bling)
    assert "ajuste manual" in ProductStockState.objects.get(bling_product_id=pid).last_reason


def test_orders_of_real_shape_are_sales_and_sell_out_products(fake_bling, tree):
    mode_live()
    pid = _stocked(fake_bling, tree.memoria, "Vendida no marketplace", "MEMO00403", 2)
    invoice = fake_bling.add_invoice(kind="nfe", items=[(pid, 2)])
    order = fake_bling.add_order(items=[(pid, 2)], nota_fiscal_id=invoice["id"])
    cancelled = fake_bling.add_order(items=[(pid, 5)], situacao_id=12)
    stock_posting(fake_bling, pid, "S", 2)
    # What real accounts send: the account's own situation (valor 0) with the goods gone
    # and the invoice issued, a 16-digit number, no expected date, integer totals.
    assert order["situacao"] == {"id": ACCOUNT_SITUATION_ID, "valor": 0}
    assert order["numero"] >= ORDER_NUMBER_START and len(str(order["numero"])) == 16
    assert order["dataPrevista"] == "0000-00-00" and order["notaFiscal"]["id"]
    assert isinstance(order["total"], int)

    orders_run = _run("sweep_orders", "orders")
    stock_run = _run("sweep_stock", "stock")

    assert orders_run.status == JobRun.Status.SUCCEEDED
    line = SaleLine.objects.get(order_id=order["id"])
    assert line.counted and line.order_number == str(order["numero"])
    assert not SaleLine.objects.get(order_id=cancelled["id"]).counted
    assert stock_run.status == JobRun.Status.SUCCEEDED
    assert fake_bling.products[pid]["situacao"] == "I"
    reason = ProductStockState.objects.get(bling_product_id=pid).last_reason
    assert str(order["numero"]) in reason
