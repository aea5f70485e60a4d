"""Webhooks of issue 15 through the real receiver: `invoice.*` / `consumer_invoice.*`, order
situations without the Situações scope, and `virtual_stock.updated` with `vinculoComplexo`.
Assertions are on what the fake Bling ends up holding and on the calls it received."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from blingsync.models import BlingConnection, JobRun
from products.models import ProductStockState, SaleLine, StockEvaluation, StockMovement
from products.stock_evaluations import stock_evaluations_run_due
from tests.products.soldout_support import moment, stock_posting
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db

Status = WebhookEvent.Status


def stocked(fake, category_id, code: str, quantity: float, **fields) -> int:
    pid = fake.add_product(f"Item {code}", codigo=code, categoria_id=category_id, **fields)["id"]
    stock_posting(fake, pid, "E", quantity, at=moment(120))
    return pid


# ---------------------------------------------------------------- invoices


def test_an_nfce_webhook_deactivates_a_product_it_sold_to_zero(fake_bling, live, deliver):
    pid = stocked(fake_bling, live.memoria, "MEMO00100", 1)
    stock_posting(fake_bling, pid, "S", 1)  # the stock event arrived first: no evidence yet
    nfce = fake_bling.add_invoice(kind="nfce", items=[("MEMO00100", 1)], situacao=5)

    event = deliver("consumer_invoice.created", fake_bling.invoice_webhook_data("nfce", nfce["id"]))
    stock_evaluations_run_due()

    assert event.status == Status.PROCESSED, event.last_error
    assert "conta como venda" in event.note
    assert SaleLine.objects.get(bling_product_id=pid).source == "nfce"
    assert fake_bling.products[pid]["situacao"] == "I"
    state = ProductStockState.objects.get(bling_product_id=pid)
    assert f"NFC-e nº {nfce['numero']}" in state.last_reason


def test_an_nfe_cancelled_later_stops_counting(fake_bling, live, deliver):
    pid = stocked(fake_bling, live.memoria, "MEMO00101", 3)
    nfe = fake_bling.add_invoice(kind="nfe", items=[("MEMO00101", 1)], situacao=6)
    deliver("invoice.created", fake_bling.invoice_webhook_data("nfe", nfe["id"]))
    assert SaleLine.objects.get(bling_product_id=pid).counted

    fake_bling.invoices["nfe"][nfe["id"]]["situacao"] = 2
    event = deliver("invoice.updated", fake_bling.invoice_webhook_data("nfe", nfe["id"]))

    assert event.status == Status.PROCESSED
    line = SaleLine.objects.get(bling_product_id=pid)
    assert not line.counted and line.situation_name == "Cancelada"


def test_incoming_nfe_and_deleted_invoices(fake_bling, live, deliver):
    pid = stocked(fake_bling, live.memoria, "MEMO00102", 3)
    entrada = fake_bling.add_invoice(kind="nfe", items=[("MEMO00102", 5)], tipo=0)
    start = len(fake_bling.requests)
    event = deliver("invoice.created", fake_bling.invoice_webhook_data("nfe", entrada["id"]))
    assert event.status == Status.IGNORED
    assert [r for r in fake_bling.requests[start:] if not r.path.startswith("/oauth")] == []

    nfce = fake_bling.add_invoice(kind="nfce", items=[("MEMO00102", 1)])
    deliver("consumer_invoice.created", fake_bling.invoice_webhook_data("nfce", nfce["id"]))
    assert SaleLine.objects.filter(bling_product_id=pid).count() == 1
    event = deliver("consumer_invoice.deleted", {"id": nfce["id"]})
    assert event.status == Status.PROCESSED
    assert not SaleLine.objects.exists()


def test_an_invoice_webhook_for_an_unknown_invoice_changes_nothing(fake_bling, live, deliver):
    event = deliver("invoice.updated", {"id": 39999999999, "tipo": 1, "situacao": 5})

    assert event.status == Status.PROCESSED
    assert not SaleLine.objects.exists()


# ---------------------------------------------------------------- no Situações scope


def test_orders_are_judged_by_valor_when_situacoes_is_refused(
    fake_bling, live, deliver, client, django_user_model
):
    fake_bling.situations_forbidden = True
    sold = stocked(fake_bling, live.memoria, "MEMO00110", 2)
    kept = stocked(fake_bling, live.memoria, "MEMO00111", 2)
    atendido = fake_bling.add_order(items=[(sold, 2)], situacao_id=9)  # valor 1
    cancelado = fake_bling.add_order(items=[(kept, 2)], situacao_id=12)  # valor 2
    stock_posting(fake_bling, sold, "S", 2)
    stock_posting(fake_bling, kept, "S", 2)

    out = StringIO()
    call_command("sweep_orders", stdout=out)
    deliver("order.updated", {"id": atendido["id"]})
    stock_evaluations_run_due()
    call_command("sweep_stock", stdout=StringIO())

    run = JobRun.objects.filter(kind="orders").latest("id")
    assert run.status == JobRun.Status.SUCCEEDED
    lines = {line.order_id: line for line in SaleLine.objects.all()}
    assert lines[atendido["id"]].counted and lines[atendido["id"]].situation_name == "Atendido"
    assert not lines[cancelado["id"]].counted
    assert lines[cancelado["id"]].situation_name == "Cancelado"
    assert fake_bling.products[sold]["situacao"] == "I"
    assert fake_bling.products[kept]["situacao"] == "A"
    assert BlingConnection.objects.get().situations_refused_at is not None

    staff = django_user_model.objects.create_user(
        username="operadora", password="segredo-forte-123", is_staff=True
    )
    client.force_login(staff)
    page = client.get("/dashboard/").content.decode()
    assert page.count('id="dash-situations-refused"') == 1
    assert "Sem o escopo Situações" in page

    # Re-authorised with the scope: names are used again and the notice goes away.
    fake_bling.situations_forbidden = False
    from products.evidence import order_situations_cache_clear

    order_situations_cache_clear()
    call_command("sweep_orders", "--since", "2020-01-01", stdout=StringIO())
    assert BlingConnection.objects.get().situations_refused_at is None
    assert "dash-situations-refused" not in client.get("/dashboard/").content.decode()


# ---------------------------------------------------------------- vinculoComplexo


def test_a_vinculo_complexo_event_evaluates_the_linked_products(fake_bling, live, deliver):
    """A component linked to many kits: Bling sends one virtual_stock.updated for it with
    vinculoComplexo and no per-kit balances. The kits' balances are fetched in batches; the
    kit sold to zero is deactivated, the kit still in stock costs no evaluation."""
    part = stocked(fake_bling, live.memoria, "MEMO00120", 50)
    kits = []
    for n in range(3):
        kits.append(
            stocked(
                fake_bling,
                live.placa_mae,
                f"KIT{n}",
                1,
                formato="E",
                # Physical kits posting their own stock: judged by their own balances and
                # sales (virtual ones follow their parts: tests/products/test_kits.py).
                estrutura={
                    "tipoEstoque": "F",
                    "lancamentoEstoque": "P",
                    "componentes": [{"produto": {"id": part}, "quantidade": 1}],
                },
            )
        )
    order = fake_bling.add_order(items=[(kits[0], 1)], situacao_id=9)
    deliver("order.created", {"id": order["id"]})
    # Bling moved the kits' virtual stock without sending a per-kit event.
    fake_bling.set_stock(kits[0], 0)
    fake_bling.set_stock(kits[1], 0)  # zero, but no sale of it: kept
    start = len(fake_bling.requests)

    event = deliver(
        "virtual_stock.updated", fake_bling.virtual_stock_webhook_data(part, vinculo_complexo=True)
    )

    assert event.status == Status.PROCESSED, event.last_error
    assert "vínculo complexo: 3 produto(s) vinculado(s)" in event.note
    calls = [r for r in fake_bling.requests[start:] if not r.path.startswith("/oauth")]
    balances = [r for r in calls if r.path == "/estoques/saldos"]
    # One batch, asked once per stock state at most (Bling lists positive balances only
    # unless asked): the first call carries every linked product.
    assert 1 <= len(balances) <= 3
    assert sorted(int(i) for i in balances[0].query["idsProdutos[]"]) == sorted(kits)
    listed = [r for r in calls if r.path == "/produtos"]
    assert all(r.query["idComponente"] == [str(part)] for r in listed)
    assert set(
        StockMovement.objects.filter(event_id__isnull=False, bling_product_id__in=kits)
        .filter(event_type="virtual_stock.updated")
        .values_list("bling_product_id", flat=True)
    ) == set(kits)
    stock_evaluations_run_due()
    assert not StockEvaluation.objects.exists()
    evaluated = set(ProductStockState.objects.values_list("bling_product_id", flat=True))
    assert evaluated == {part, kits[0], kits[1]}

    assert fake_bling.products[kits[0]]["situacao"] == "I"
    assert fake_bling.products[kits[1]]["situacao"] == "A"
    assert fake_bling.products[kits[2]]["situacao"] == "A"
    assert ProductStockState.objects.get(bling_product_id=kits[1]).last_rule == "no_sales"
    assert not ProductStockState.objects.filter(bling_product_id=kits[2]).exists()


def test_a_vinculo_complexo_event_of_a_kit_reads_its_components(fake_bling, live, deliver):
    parts = [stocked(fake_bling, live.memoria, f"MEMO0013{n}", 1) for n in range(2)]
    kit = stocked(
        fake_bling,
        live.placa_mae,
        "KIT9",
        1,
        formato="E",
        estrutura={
            "tipoEstoque": "F",
            "lancamentoEstoque": "M",
            "componentes": [{"produto": {"id": p}, "quantidade": 1} for p in parts],
        },
    )
    fake_bling.set_stock(parts[0], 0)

    event = deliver(
        "virtual_stock.updated", fake_bling.virtual_stock_webhook_data(kit, vinculo_complexo=True)
    )

    assert event.status == Status.PROCESSED, event.last_error
    assert "2 produto(s) vinculado(s)" in event.note
    stock_evaluations_run_due()
    evaluated = set(ProductStockState.objects.values_list("bling_product_id", flat=True))
    assert evaluated == {kit, parts[0]}
