"""Invoices as sales evidence (issue 15), against the fake Bling over HTTP.

- a product sold to zero by an NFC-e only is deactivated, with the NFC-e as its evidence;
- an order and the NF-e issued from it are one sale (counted once);
- a cancelled invoice is not a sale;
- the invoices sweep costs one list page per 100 invoices plus one detail per new invoice,
  and its requests are ones Bling's OpenAPI document allows (the fake refuses others).
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.urls import reverse

from blingsync.models import AuditLog, JobRun
from products.evidence import order_record
from products.invoice_evidence import invoice_record
from products.models import CodeAssignment, InvoiceRecord, ProductStockState, SaleLine
from products.soldout import product_stock_evaluate
from tests.products.soldout_support import mode_live, moment, situation_writes, stock_posting

pytestmark = pytest.mark.django_db


def sweep(*args: str) -> tuple[JobRun, str]:
    out = StringIO()
    call_command("sweep_invoices", *args, stdout=out)
    return JobRun.objects.filter(kind="invoices").latest("id"), out.getvalue()


@pytest.fixture
def live(tree):
    mode_live()
    return tree


def stocked(fake, category_id, code: str, quantity: float) -> int:
    pid = fake.add_product("Memória DDR4 8GB", codigo=code, categoria_id=category_id)["id"]
    stock_posting(fake, pid, "E", quantity, at=moment(120))
    return pid


def api_calls(fake, start: int) -> list:
    return [r for r in fake.requests[start:] if not r.path.startswith("/oauth")]


# ---------------------------------------------------------------- sold by an NFC-e only


def test_a_product_sold_to_zero_by_an_nfce_only_is_deactivated(fake_bling, live):
    pid = stocked(fake_bling, live.memoria, "MEMO00010", 2)
    nfce = fake_bling.add_invoice(kind="nfce", items=[("MEMO00010", 2)], situacao=5)
    stock_posting(fake_bling, pid, "S", 2)  # Bling posts the NFC-e's exit

    run, out = sweep()
    result = product_stock_evaluate(product_id=pid, dry_run=False)

    assert run.status == JobRun.Status.SUCCEEDED, run.error
    line = SaleLine.objects.get(bling_product_id=pid)
    assert (line.source, line.order_id, line.counted) == ("nfce", nfce["id"], True)
    assert fake_bling.products[pid]["situacao"] == "I"
    assert result.verdict == "deactivate"
    entry = AuditLog.objects.get(action=AuditLog.Action.PRODUCT_DEACTIVATED, bling_product_id=pid)
    assert f"2 unidades vendidas na NFC-e nº {nfce['numero']}" in entry.reason
    assert "itens de notas: 1" in out


def test_the_evidence_page_lists_each_sale_with_its_source(
    fake_bling, live, client, django_user_model
):
    pid = stocked(fake_bling, live.memoria, "MEMO00011", 3)
    order = fake_bling.add_order(items=[(pid, 1)], situacao_id=9)
    order_record(order_id=order["id"])
    nfe = fake_bling.add_invoice(kind="nfe", items=[("MEMO00011", 1)], numero="451")
    nfce = fake_bling.add_invoice(kind="nfce", items=[("MEMO00011", 1)], numero="77")
    stock_posting(fake_bling, pid, "S", 3)
    sweep()
    product_stock_evaluate(product_id=pid, dry_run=False)
    state = ProductStockState.objects.get(bling_product_id=pid)
    staff = django_user_model.objects.create_user(
        username="operador", password="segredo-forte-123", is_staff=True
    )
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_productstockstate", "view_saleline"])
    )
    client.force_login(staff)

    page = client.get(reverse("admin:products_productstockstate_change", args=[state.pk]))

    assert page.status_code == 200
    text = page.content.decode()
    assert f"pedido nº {order['numero']}" in text
    assert "NF-e nº 451" in text and "NFC-e nº 77" in text
    assert fake_bling.products[pid]["situacao"] == "I"
    assert nfe["id"] and nfce["id"]


def test_codes_are_resolved_by_our_assignments_first_then_one_lookup_per_page(fake_bling, live):
    ours = stocked(fake_bling, live.memoria, "MEMO00020", 1)
    CodeAssignment.objects.create(
        bling_product_id=ours,
        code="MEMO00020",
        prefix="MEMO",
        number=20,
        status=CodeAssignment.Status.APPLIED,
    )
    others = [stocked(fake_bling, live.memoria, f"OLD-{n}", 1) for n in range(3)]
    fake_bling.set_stock(others[0], 0)  # a sold-out product must still be found by its code
    fake_bling.add_invoice(kind="nfe", items=[("MEMO00020", 1), ("OLD-0", 1)])
    fake_bling.add_invoice(kind="nfe", items=[("OLD-1", 1), ("SERVICO-X", 1)])
    fake_bling.add_invoice(kind="nfce", items=[("OLD-2", 1)])
    start = len(fake_bling.requests)

    run, _out = sweep()

    lookups = [r for r in api_calls(fake_bling, start) if r.path == "/produtos"]
    # One lookup per page of invoices (NF-e page, NFC-e page), each over every stock state.
    assert len(lookups) == 2 * 3
    assert all(r.query.get("filtroSaldoEstoque") for r in lookups)
    assert not any("MEMO00020" in r.query.get("codigos[]", []) for r in lookups)
    assert sorted(SaleLine.objects.values_list("bling_product_id", flat=True)) == sorted(
        [ours, *others]
    )
    assert run.details["invoices_unresolved"] == 1  # SERVICO-X: nobody has that code


# ---------------------------------------------------------------- an order and its NF-e


@pytest.mark.parametrize("invoice_first", [False, True], ids=["order-first", "invoice-first"])
def test_an_order_and_its_nfe_are_one_sale(fake_bling, live, invoice_first):
    """4 units left the stock in one posting; the order and its NF-e sold 2. Counted twice
    they would explain the 4 and deactivate the product; counted once, 2 left without a sale:
    kept. Order first: issuing the NF-e changes the order (its `notaFiscal`), and the orders
    sweep's re-read of the order links the two."""
    pid = stocked(fake_bling, live.memoria, "MEMO00030", 4)
    order = fake_bling.add_order(items=[(pid, 2)], situacao_id=9)
    if not invoice_first:
        order_record(order_id=order["id"])
    fake_bling.add_invoice(kind="nfe", items=[("MEMO00030", 2)], order_id=order["id"])
    sweep()
    call_command("sweep_orders", "--since", "2020-01-01", stdout=StringIO())
    stock_posting(fake_bling, pid, "S", 4)

    result = product_stock_evaluate(product_id=pid, dry_run=False)

    assert SaleLine.objects.filter(bling_product_id=pid).count() == 2
    assert SaleLine.objects.get(source="nfe").sale_order_id == order["id"]
    assert result.rule == "unexplained_exit"
    assert "só 2 unidades vendidas" in result.reason
    assert fake_bling.products[pid]["situacao"] == "A"
    assert situation_writes(fake_bling) == []


def test_an_order_and_its_nfe_that_sold_the_stock_deactivate_it_once(fake_bling, live):
    pid = stocked(fake_bling, live.memoria, "MEMO00031", 2)
    order = fake_bling.add_order(items=[(pid, 2)], situacao_id=9)
    fake_bling.add_invoice(kind="nfe", items=[("MEMO00031", 2)], order_id=order["id"])
    sweep()
    order_record(order_id=order["id"])
    stock_posting(fake_bling, pid, "S", 2)

    result = product_stock_evaluate(product_id=pid, dry_run=False)

    assert fake_bling.products[pid]["situacao"] == "I"
    assert f"2 unidades vendidas no pedido {order['numero']}" in result.reason
    sales = AuditLog.objects.get(action=AuditLog.Action.PRODUCT_DEACTIVATED).reason
    assert "NF-e" not in sales


def test_an_invoice_linked_by_the_store_order_number_is_the_same_sale(fake_bling, live):
    pid = stocked(fake_bling, live.memoria, "MEMO00032", 4)
    order = fake_bling.add_order(items=[(pid, 2)], situacao_id=9, numero_loja="ML-889")
    order_record(order_id=order["id"])
    fake_bling.add_invoice(kind="nfe", items=[("MEMO00032", 2)], numero_pedido_loja="ML-889")
    sweep()
    stock_posting(fake_bling, pid, "S", 4)

    result = product_stock_evaluate(product_id=pid, dry_run=False)

    assert result.rule == "unexplained_exit"  # 2 sold, not 4
    assert fake_bling.products[pid]["situacao"] == "A"


# ---------------------------------------------------------------- cancelled invoices


def test_a_cancelled_invoice_is_not_a_sale(fake_bling, live):
    pid = stocked(fake_bling, live.memoria, "MEMO00040", 1)
    nfe = fake_bling.add_invoice(kind="nfe", items=[("MEMO00040", 1)], situacao=5)
    sweep()
    fake_bling.invoices["nfe"][nfe["id"]]["situacao"] = 2  # cancelled in Bling afterwards
    stock_posting(fake_bling, pid, "S", 1)
    start = len(fake_bling.requests)

    run, _out = sweep("--since", "2020-01-01")
    result = product_stock_evaluate(product_id=pid, dry_run=False)

    details = [r for r in api_calls(fake_bling, start) if r.path.startswith("/nfe/")]
    assert details == []  # seen in the cancelled listing: no detail needed
    line = SaleLine.objects.get(bling_product_id=pid)
    assert not line.counted and line.situation_name == "Cancelada"
    assert run.details["invoices_cancelled"] == 1
    assert result.rule == "cancelled_only"
    assert fake_bling.products[pid]["situacao"] == "A"
    assert situation_writes(fake_bling) == []


@pytest.mark.parametrize(("situacao", "name"), [(4, "Rejeitada"), (1, "Pendente")])
def test_rejected_or_pending_invoices_are_not_sales(fake_bling, live, situacao, name):
    pid = stocked(fake_bling, live.memoria, "MEMO00041", 1)
    nfce = fake_bling.add_invoice(kind="nfce", items=[("MEMO00041", 1)], situacao=situacao)
    stock_posting(fake_bling, pid, "S", 1)

    invoice_record(source="nfce", invoice_id=nfce["id"])
    result = product_stock_evaluate(product_id=pid, dry_run=False)

    line = SaleLine.objects.get(bling_product_id=pid)
    assert not line.counted and line.situation_name == name
    assert result.verdict == "keep"
    assert fake_bling.products[pid]["situacao"] == "A"


def test_incoming_invoices_and_returns_are_not_recorded(fake_bling, live):
    stocked(fake_bling, live.memoria, "MEMO00042", 1)
    entrada = fake_bling.add_invoice(kind="nfe", items=[("MEMO00042", 1)], tipo=0)
    devolucao = fake_bling.add_invoice(kind="nfe", items=[("MEMO00042", 1)], finalidade=4)

    sweep()
    invoice_record(source="nfe", invoice_id=entrada["id"])

    assert not SaleLine.objects.exists()
    listed = [r for r in fake_bling.requests if r.path == "/nfe"]
    assert all(r.query["tipo"] == ["1"] for r in listed)
    assert InvoiceRecord.objects.get(invoice_id=devolucao["id"]).lines == 0


# ---------------------------------------------------------------- cost of the sweep


def test_the_sweep_costs_list_pages_plus_one_detail_per_new_invoice(fake_bling, live):
    pid = stocked(fake_bling, live.memoria, "MEMO00050", 500)
    CodeAssignment.objects.create(
        bling_product_id=pid,
        code="MEMO00050",
        prefix="MEMO",
        number=50,
        status=CodeAssignment.Status.APPLIED,
    )
    for _ in range(150):
        fake_bling.add_invoice(kind="nfe", items=[("MEMO00050", 1)])
    for _ in range(30):
        fake_bling.add_invoice(kind="nfce", items=[("MEMO00050", 1)])
    start = len(fake_bling.requests)

    run, _out = sweep()

    calls = api_calls(fake_bling, start)
    lists = [r for r in calls if r.path in ("/nfe", "/nfce")]
    details = [r for r in calls if r.path.startswith(("/nfe/", "/nfce/"))]
    # NF-e: 2 pages (100 + 50); NFC-e: 1 page; cancelled listings: 1 page each.
    assert len(lists) == 2 + 1 + 2
    assert len(details) == 180
    assert run.api_calls == len(calls) == len(lists) + len(details)

    start = len(fake_bling.requests)
    rerun, _out = sweep()

    again = api_calls(fake_bling, start)
    assert [r for r in again if r.path.startswith(("/nfe/", "/nfce/"))] == []
    assert len(again) == 5 and rerun.changed == 0


# ---------------------------------------------------------------- the command


def test_the_command_refuses_to_run_without_a_connection(fake_bling, db):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="Notas fiscais"):
        sweep()
    assert fake_bling.calls() == []


def test_limit_full_and_dry_run(fake_bling, live):
    from django.core.management import CommandError

    stocked(fake_bling, live.memoria, "MEMO00060", 5)
    for _ in range(3):
        fake_bling.add_invoice(kind="nfce", items=[("MEMO00060", 1)])

    limited, _out = sweep("--limit", "1")
    assert limited.changed == 1 and SaleLine.objects.count() == 1

    full, _out = sweep("--full", "--dry-run")
    assert full.status == JobRun.Status.SUCCEEDED and full.params["full"] is True
    assert full.details["dry_run"] is True
    assert SaleLine.objects.count() == 3  # the ledger is blingsync's own: recorded in dry-run
    assert situation_writes(fake_bling) == []

    with pytest.raises(CommandError, match="--full e --since"):
        sweep("--full", "--since", "2026-01-01")
