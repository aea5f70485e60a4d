"""What real Bling accounts send (bling-v3.md 9b), through the real receiver and processing:
a balance as `stock.created` with `operacao` "B", product details whose unset enums are "",
excluded products, orders in a situation of the account's own with 16-digit numbers.
Assertions are on what the fake Bling ends up holding and on the calls it received."""

from __future__ import annotations

import re

import pytest

from products.models import CodeAssignment, Composition, ProductStockState, SaleLine, StockMovement
from products.stock_evaluations import stock_evaluations_run_due
from tests.fakebling.state import ACCOUNT_SITUATION_ID
from tests.fakebling.stock import stock_post
from tests.products.soldout_support import (
    moment,
    situation_writes,
    stock_posting,
)
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db

Status = WebhookEvent.Status
MARKETPLACE_NUMBER = 2000009257357562


def _stocked(fake, category_id: int, name: str, code: str, quantity: float) -> int:
    """A product that came into stock two hours ago (an entry, E)."""
    pid = fake.add_product(name, codigo=code, categoria_id=category_id)["id"]
    stock_posting(fake, pid, "E", quantity, at=moment(120))
    return pid


def _sold(fake, deliver, category_id: int, name: str, code: str, stock: float) -> int:
    """A product in stock, one unit of it sold in an order whose webhook was processed."""
    pid = _stocked(fake, category_id, name, code, stock)
    order = fake.add_order(items=[(pid, 1)])
    deliver("order.created", {"id": order["id"], "numero": order["numero"]})
    return pid


def _bling_post(fake, pid: int, operation: str, quantity: float) -> dict:
    """A posting made in Bling (its stock screen) and the webhook `data` it sends."""
    with fake.lock:
        _posting, data = stock_post(
            fake, pid, fake.catalog.default_deposit_id(), operation, quantity
        )
    return data


def test_a_balance_arrives_as_stock_created_b_and_is_no_sale(fake_bling, live, deliver):
    # One unit sold...
    pid = _sold(fake_bling, deliver, live.memoria, "Memória ajustada", "MEMO00300", 2)
    data = _bling_post(fake_bling, pid, "B", 0)  # ...then the rest zeroed by hand
    assert data["saldoFisicoTotal"] == 0 and isinstance(data["saldoFisicoTotal"], int)

    event = deliver("stock.created", data)
    stock_evaluations_run_due()

    assert event.status == Status.PROCESSED, event.last_error
    movement = StockMovement.objects.get(event_id=event.event_id)
    assert movement.operation == "B" and movement.event_type == "stock.created"
    assert fake_bling.products[pid]["situacao"] == "A"  # a manual adjustment: kept
    assert not situation_writes(fake_bling)
    state = ProductStockState.objects.get(bling_product_id=pid)
    assert "ajuste manual" in state.last_reason


def test_a_stock_created_exit_is_read_by_its_operacao(fake_bling, live, deliver):
    pid = _sold(fake_bling, deliver, live.memoria, "Memória vendida", "MEMO00301", 1)
    data = _bling_post(fake_bling, pid, "S", 1)

    event = deliver("stock.created", data)  # a *.created movement like any other
    stock_evaluations_run_due()

    assert event.status == Status.PROCESSED, event.last_error
    assert StockMovement.objects.get(event_id=event.event_id).operation == "S"
    assert fake_bling.products[pid]["situacao"] == "I"  # sold out by the sale


def test_a_product_detail_with_empty_enums_is_coded_and_not_taken_for_a_kit(
    fake_bling, live, deliver
):
    pid = fake_bling.add_product("Memória nova", categoria_id=live.memoria)["id"]
    detail = fake_bling.product(pid)
    assert detail["actionEstoque"] == "" and detail["dataValidade"] == "0000-00-00"

    event = deliver("product.created", _product_data(fake_bling, pid))

    assert event.status == Status.PROCESSED, event.last_error
    read = [c for c in fake_bling.calls(method="GET") if c.path == f"/produtos/{pid}"]
    assert read, "processing re-reads the product"
    assert re.fullmatch(r"MEMO\d{5}", fake_bling.products[pid]["codigo"])
    assert not Composition.objects.filter(bling_product_id=pid).exists()


def test_an_excluded_product_is_never_coded(fake_bling, live, deliver):
    pid = fake_bling.add_product("Excluída", categoria_id=live.memoria, situacao="E")["id"]

    event = deliver("product.updated", _product_data(fake_bling, pid))

    assert event.status in (Status.PROCESSED, Status.IGNORED), event.last_error
    assert fake_bling.products[pid]["codigo"] == ""
    assert not fake_bling.calls(method="PATCH")
    assert not CodeAssignment.objects.filter(bling_product_id=pid).exists()


def test_an_excluded_product_sold_out_is_not_deactivated(fake_bling, live, deliver):
    pid = _sold(fake_bling, deliver, live.memoria, "Excluída vendida", "MEMO00302", 1)
    fake_bling.products[pid]["situacao"] = "E"

    event = deliver("stock.updated", _bling_post(fake_bling, pid, "S", 1))
    stock_evaluations_run_due()

    assert event.status == Status.PROCESSED, event.last_error
    assert fake_bling.products[pid]["situacao"] == "E"
    assert not situation_writes(fake_bling)


def test_an_excluded_product_we_deactivated_is_not_reactivated(fake_bling, live, deliver):
    pid = fake_bling.add_product("Nossa, excluída", codigo="MEMO00303", categoria_id=live.memoria)
    pid = pid["id"]
    fake_bling.products[pid]["situacao"] = "E"
    ProductStockState.objects.create(
        bling_product_id=pid, situation="I", deactivated_by_blingsync=True
    )

    event = deliver("stock.updated", _bling_post(fake_bling, pid, "E", 5))
    stock_evaluations_run_due()

    assert event.status == Status.PROCESSED, event.last_error
    assert fake_bling.products[pid]["situacao"] == "E"
    assert not situation_writes(fake_bling)


@pytest.mark.parametrize("names", ["listed", "no Situações scope"])
def test_an_order_in_the_accounts_own_situation_is_a_sale(fake_bling, live, deliver, names):
    fake_bling.situations_forbidden = names != "listed"
    pid = _stocked(fake_bling, live.memoria, "Memória ML", "MEMO00304", 1)
    invoice = fake_bling.add_invoice(kind="nfe", items=[(pid, 1)])
    order = fake_bling.add_order(
        items=[(pid, 1)], numero=MARKETPLACE_NUMBER, nota_fiscal_id=invoice["id"]
    )
    # The shape of a marketplace order in a real account.
    assert order["situacao"] == {"id": ACCOUNT_SITUATION_ID, "valor": 0}
    assert order["dataPrevista"] == "0000-00-00" and order["dataSaida"]
    assert isinstance(order["total"], int)

    event = deliver("order.created", {"id": order["id"], "numero": order["numero"]})
    deliver("stock.updated", _bling_post(fake_bling, pid, "S", 1))
    stock_evaluations_run_due()

    assert event.status == Status.PROCESSED, event.last_error
    line = SaleLine.objects.get(order_id=order["id"])
    assert line.counted and line.order_number == str(MARKETPLACE_NUMBER)
    assert line.situation_id == ACCOUNT_SITUATION_ID
    expected_name = "Enviado ao marketplace" if names == "listed" else "Em aberto"
    assert line.situation_name == expected_name
    assert fake_bling.products[pid]["situacao"] == "I"  # sold out by that sale
    assert (
        str(MARKETPLACE_NUMBER) in ProductStockState.objects.get(bling_product_id=pid).last_reason
    )


def test_a_cancelled_order_still_is_no_sale(fake_bling, live, deliver):
    pid = _stocked(fake_bling, live.memoria, "Memória cancelada", "MEMO00305", 1)
    order = fake_bling.add_order(items=[(pid, 1)], situacao_id=12, numero=MARKETPLACE_NUMBER + 1)

    deliver("order.created", {"id": order["id"], "numero": order["numero"]})
    deliver("stock.updated", _bling_post(fake_bling, pid, "S", 1))
    stock_evaluations_run_due()

    assert not SaleLine.objects.get(order_id=order["id"]).counted
    assert fake_bling.products[pid]["situacao"] == "A"


def _product_data(fake, pid: int) -> dict:
    from tests.fakebling.products import webhook_data

    with fake.lock:
        return webhook_data(fake, fake.catalog.products[pid])
