"""The evidence ledger services: stock movements from webhook payloads (bling-v3.md 8.4) and
sale lines from orders (re-read from the fake Bling)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from blingsync.jobrunner import job_run_create
from products.evidence import (
    order_forget,
    order_product_ids,
    order_record,
    order_situation_names,
    situation_is_cancelled,
    stock_movement_from_payload,
)
from products.models import SaleLine, StockMovement

pytestmark = pytest.mark.django_db

WHEN = "2026-11-02T12:18:46Z"


def test_it_records_a_stock_updated_payload():
    data = {
        "produto": {"id": 12345678},
        "deposito": {"id": 14, "saldoFisico": 1250.75, "saldoVirtual": 1250.75},
        "operacao": "E",
        "quantidade": 25,
        "saldoFisicoTotal": 1500.75,
        "saldoVirtualTotal": 1500.75,
    }
    mv = stock_movement_from_payload(
        event_type="stock.updated", data=data, occurred_at=WHEN, event_id="ev-1"
    )
    mv.refresh_from_db()
    assert (mv.bling_product_id, mv.deposit_id, mv.operation) == (12345678, 14, "E")
    assert mv.quantity == Decimal(25)
    assert mv.deposit_physical == Decimal("1250.75")
    assert mv.virtual_total == Decimal("1500.75")
    assert mv.occurred_at == datetime(2026, 11, 2, 12, 18, 46, tzinfo=UTC)
    assert mv.event_type == "stock.updated"


def test_a_duplicate_delivery_is_recorded_once():
    data = {"produto": {"id": 7}, "operacao": "S", "quantidade": 1, "saldoVirtualTotal": 0}
    for _ in range(3):
        stock_movement_from_payload(
            event_type="stock.updated", data=data, occurred_at=WHEN, event_id="ev-dup"
        )
    assert StockMovement.objects.filter(bling_product_id=7).count() == 1


def test_a_deleted_posting_keeps_only_the_balances():
    data = {
        "produto": {"id": 8},
        "deposito": {"id": 14, "saldoFisico": 3, "saldoVirtual": 3},
        "saldoFisicoTotal": 3,
        "saldoVirtualTotal": 3,
    }
    mv = stock_movement_from_payload(
        event_type="stock.deleted", data=data, occurred_at=WHEN, event_id="ev-del"
    )
    assert mv.operation == "" and mv.quantity is None and mv.virtual_total == 3


def test_virtual_stock_keeps_totals_and_a_single_deposit():
    many = {
        "produto": {"id": 9},
        "saldoFisicoTotal": 150.75,
        "saldoVirtualTotal": 148.5,
        "vinculoComplexo": True,
        "depositos": [
            {"id": 1, "saldoFisico": 75.25, "saldoVirtual": 73.0},
            {"id": 2, "saldoFisico": 75.5, "saldoVirtual": 75.5},
        ],
    }
    mv = stock_movement_from_payload(
        event_type="virtual_stock.updated", data=many, occurred_at=WHEN, event_id="v1"
    )
    assert mv.deposit_id is None and mv.virtual_total == Decimal("148.5") and mv.operation == ""
    one = {**many, "depositos": many["depositos"][:1]}
    mv = stock_movement_from_payload(
        event_type="virtual_stock.updated", data=one, occurred_at=WHEN, event_id="v2"
    )
    assert mv.deposit_id == 1 and mv.deposit_virtual == 73


@pytest.mark.parametrize(
    ("event_type", "data"),
    [
        ("product.updated", {"id": 1}),
        ("stock.updated", {"deposito": {"id": 1}}),
        ("stock.updated", {"produto": {}}),
    ],
)
def test_other_payloads_record_nothing(event_type, data):
    assert (
        stock_movement_from_payload(
            event_type=event_type, data=data, occurred_at=WHEN, event_id="x"
        )
        is None
    )
    assert not StockMovement.objects.exists()


@pytest.mark.parametrize(
    ("name", "cancelled"),
    [
        ("Cancelado", True),
        ("CANCELADO", True),
        ("cancelado pelo cliente", True),
        ("Cancelada", True),
        ("Atendido", False),
        ("Em aberto", False),
        ("", False),
    ],
)
def test_cancelled_situations_are_recognised_by_name(name, cancelled):
    assert situation_is_cancelled(name) is cancelled


def test_an_order_is_recorded_with_its_items(bling_connected, fake_bling):
    a = fake_bling.add_product("A")["id"]
    b = fake_bling.add_product("B")["id"]
    order = fake_bling.add_order(items=[(a, 2), (b, 1)], situacao_id=9, data="2026-11-02")

    assert order_record(order_id=order["id"]) == 2

    lines = SaleLine.objects.filter(order_id=order["id"]).order_by("line")
    assert [(ln.bling_product_id, ln.quantity) for ln in lines] == [(a, 2), (b, 1)]
    assert all(ln.counted and ln.situation_name == "Atendido" for ln in lines)
    assert lines[0].order_date.isoformat() == "2026-11-02"
    assert lines[0].order_number == str(order["numero"])
    assert order_product_ids(order_id=order["id"]) == sorted([a, b])


def test_rereading_an_order_replaces_its_lines(bling_connected, fake_bling):
    a = fake_bling.add_product("A")["id"]
    order = fake_bling.add_order(items=[(a, 2)], situacao_id=9)
    order_record(order_id=order["id"])
    first_seen = SaleLine.objects.get(order_id=order["id"]).first_seen_at

    fake_bling.orders[order["id"]]["situacao"]["id"] = 12  # cancelled in Bling
    fake_bling.orders[order["id"]]["itens"][0]["quantidade"] = 1
    assert order_record(order_id=order["id"]) == 1
    assert order_record(order_id=order["id"]) == 1

    line = SaleLine.objects.get(order_id=order["id"])
    assert line.quantity == 1 and not line.counted and line.situation_name == "Cancelado"
    assert line.first_seen_at == first_seen


def test_situations_are_resolved_by_name_not_by_id(bling_connected, fake_bling):
    fake_bling.order_situations = {6: "Cancelado", 12: "Atendido"}  # ids not what folklore says
    a = fake_bling.add_product("A")["id"]
    sold = fake_bling.add_order(items=[(a, 1)], situacao_id=12)
    cancelled = fake_bling.add_order(items=[(a, 1)], situacao_id=6)

    order_record(order_id=sold["id"])
    order_record(order_id=cancelled["id"])

    assert SaleLine.objects.get(order_id=sold["id"]).counted
    assert not SaleLine.objects.get(order_id=cancelled["id"]).counted


def test_a_deleted_order_is_forgotten(bling_connected, fake_bling):
    a = fake_bling.add_product("A")["id"]
    order = fake_bling.add_order(items=[(a, 1)])
    order_record(order_id=order["id"])
    assert order_forget(order_id=order["id"]) == 1
    assert not SaleLine.objects.exists()

    order_record(order_id=order["id"])
    del fake_bling.orders[order["id"]]
    assert order_record(order_id=order["id"]) == 0
    assert not SaleLine.objects.exists()


def test_situation_names_are_read_once_per_run(bling_connected, fake_bling):
    run = job_run_create(kind="orders", trigger="command")
    for _ in range(3):
        assert order_situation_names(run_id=run.pk)[12] == "Cancelado"
    assert len(fake_bling.calls(method="GET", path="/situacoes/modulos")) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_webhook_and_the_sweep_replacing_one_order_at_once_leave_one_set_of_lines():
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    from blingsync.bling.types import Order, OrderItem
    from products.evidence import order_lines_replace

    order = Order(
        id=20000000001,
        number="1",
        date=None,
        situation_id=9,
        items=tuple(OrderItem(product_id=100 + n, code="", quantity=Decimal(1)) for n in range(5)),
    )

    def replace(_n: int) -> int:
        try:
            return order_lines_replace(order=order, situations={9: "Atendido"})
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        counts = list(pool.map(replace, range(16)))

    assert counts == [5] * 16
    assert SaleLine.objects.filter(order_id=order.id).count() == 5
