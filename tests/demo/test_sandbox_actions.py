"""The sandbox (tests/fakebling/sandbox): the retailer's catalog, and things that happen in it
sending signed webhooks that the app, over real HTTP, accepts and processes.

The app is a live server on loopback connected to the fake (the `bling_connected` fixture);
the fake posts to it as Bling would. Assertions are on what both ends hold: the fake's sent
deliveries and catalog, the app's stored events, evidence and audit.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections import Counter

import pytest

from blingsync.models import AuditLog
from products.category_sync import categories_sync
from products.models import SaleLine, StockMovement
from tests.fakebling import FakeBling
from tests.fakebling.sandbox import (
    ActionError,
    manual_balance,
    new_product,
    restock,
    retail_catalog_generate,
    sale,
)
from tests.fakebling.sandbox.__main__ import main as sandbox_command
from webhooks.models import WebhookEvent

URL = "/webhooks/bling/"


def _snapshot(fake: FakeBling) -> tuple:
    return (
        {
            pid: (p["nome"], p["codigo"], p["formato"], p["categoria"]["id"])
            for pid, p in fake.products.items()
        },
        {pid: dict(b) for pid, b in fake.balances.items()},
        sorted(fake.orders),
        {kind: sorted(store) for kind, store in fake.invoices.items()},
    )


def test_the_retail_catalog_is_deterministic_and_shows_every_rule_at_work():
    one, two = FakeBling(), FakeBling()
    made = retail_catalog_generate(one)
    retail_catalog_generate(two)
    assert _snapshot(one) == _snapshot(two)

    assert 250 <= made.products <= 500
    names = {c["descricao"] for c in one.categories.values()}
    assert {
        "Notebook",
        "Mini",
        "SFF",
        "Monitor",
        "Peças",
        "Placa Mãe",
        "Memória",
        "SubMaquina",
    } <= names
    # Uncoded products in several categories; coded ones carry their category's prefix.
    uncoded_categories = {one.catalog.category_of(one.products[pid]) for pid in made.without_code}
    assert len(uncoded_categories) >= 5
    assert any(p["codigo"].startswith("NTB") for p in one.products.values())
    assert any(p["codigo"].startswith("PLMA") for p in one.products.values())
    # Variations, both kinds of kit, stock in two deposits.
    assert all(one.products[pid]["formato"] == "V" for pid in made.variation_parents)
    kit_kinds = {one.products[pid]["estrutura"]["tipoEstoque"] for pid in made.kits}
    assert kit_kinds == {"V", "F"}
    assert len(one.deposits) == 2
    stocked_in = Counter(
        dep for bal in one.balances.values() for dep, b in bal.items() if b["fisico"] > 0
    )
    assert stocked_in[made.deposit_main] > 50 and stocked_in[made.deposit_store] > 20
    # Documents: orders (some cancelled), NF-e from orders, NFC-e.
    situations = Counter(o["situacao"]["id"] for o in one.orders.values())
    assert situations[9] > 10 and situations[12] >= 2
    assert any(o["notaFiscal"]["id"] for o in one.orders.values())
    assert made.nfe >= 3 and made.nfce >= 5
    # The named cases are at zero; only the sold-out one has sales that count.
    for pid in (
        made.sold_out_by_sales,
        made.zeroed_by_hand,
        made.sold_out_notebook,
        made.never_stocked,
    ):
        assert one.catalog.totals(pid) == (0.0, 0.0)
    sold = [
        o for o in one.orders.values() if o["itens"][0]["produto"]["id"] == made.sold_out_by_sales
    ]
    assert len(sold) == 2 and all(o["situacao"]["id"] == 9 for o in sold)
    assert any(
        p["operacao"] == "B" and p["produto"]["id"] == made.zeroed_by_hand
        for p in one.stock_postings
    )


def test_bad_input_is_refused_and_changes_nothing():
    fake = FakeBling()
    made = retail_catalog_generate(fake)
    before = _snapshot(fake)
    with pytest.raises(ActionError, match="não existe"):
        sale(fake, product_id=1)
    with pytest.raises(ActionError, match="Saldo insuficiente"):
        sale(fake, product_id=made.sold_out_by_sales)
    uncoded = next(
        pid
        for pid in made.without_code
        if fake.products[pid]["formato"] != "V" and fake.catalog.totals(pid)[1] > 0
    )
    with pytest.raises(ActionError, match="não tem código"):
        sale(fake, product_id=uncoded, document="nfce")
    with pytest.raises(ActionError, match="variações"):
        sale(fake, product_id=made.variation_parents[0])
    with pytest.raises(ActionError, match="Quantidade"):
        restock(fake, product_id=made.sold_out_by_sales, quantity="-3")
    with pytest.raises(ActionError, match="Depósito"):
        restock(fake, product_id=made.sold_out_by_sales, deposit_id=42)
    with pytest.raises(ActionError, match="nome"):
        new_product(fake, name=" ", category_id="")
    after = _snapshot(fake)
    assert after == before
    assert fake.sent_webhooks == []


@pytest.fixture
def sandbox(fake_bling, bling_connected, live_server, settings):
    """The fake with the retailer's catalog, mirrored categories, posting to the live app."""
    settings.BLING_RETRY_ATTEMPTS = 1
    made = retail_catalog_generate(fake_bling)
    categories_sync()
    fake_bling.webhook_url = live_server.url + URL
    return made


def _delivered(fake: FakeBling, count: int) -> list[tuple[str, str, int]]:
    fake.wait_webhooks(timeout=20)
    sent = fake.sent_webhooks[-count:]
    assert len(sent) == count
    assert [status for _eid, _event, status in sent] == [200] * count, sent
    return sent


def _events(sent: list[tuple[str, str, int]]) -> list[WebhookEvent]:
    rows = list(WebhookEvent.objects.filter(event_id__in=[eid for eid, _e, _s in sent]))
    assert len(rows) == len(sent)
    assert all(row.signature_valid for row in rows)
    return rows


@pytest.mark.django_db(transaction=True)
def test_a_sale_sends_signed_webhooks_the_app_accepts_and_records(fake_bling, sandbox):
    pid = sandbox.kits[0]  # the virtual kit: its parts' exits, its own virtual stock
    result = sale(fake_bling, product_id=pid, quantity=1)
    assert result.events[0] == "order.created"
    assert "stock.updated" in result.events and "virtual_stock.updated" in result.events
    rows = _events(_delivered(fake_bling, len(result.events)))
    assert {row.event_type for row in rows} == set(result.events)
    assert all(row.status == WebhookEvent.Status.PROCESSED for row in rows), [
        (r.event_type, r.status, r.last_error) for r in rows
    ]
    order_id = max(fake_bling.orders)
    assert SaleLine.objects.filter(order_id=order_id).exists()
    parts = [c["produto"]["id"] for c in fake_bling.products[pid]["estrutura"]["componentes"]]
    assert set(
        StockMovement.objects.filter(operation="S").values_list("bling_product_id", flat=True)
    ) == set(parts)


@pytest.mark.django_db(transaction=True)
def test_an_nfce_a_restock_and_a_hand_zeroing_reach_the_app(fake_bling, sandbox):
    pid = next(
        p["id"]
        for p in fake_bling.products.values()
        if p["codigo"].startswith("CABO") and fake_bling.catalog.totals(p["id"])[1] >= 1
    )
    sold = sale(fake_bling, product_id=pid, quantity=1, document="nfce")
    assert sold.events == ["consumer_invoice.created", "stock.updated"]
    entry = restock(fake_bling, product_id=pid, quantity=4, deposit_id=sandbox.deposit_store)
    zero = manual_balance(fake_bling, product_id=sandbox.sold_out_notebook, quantity=0)
    rows = _events(_delivered(fake_bling, len(sold.events) + len(entry.events) + len(zero.events)))
    assert {row.status for row in rows} == {WebhookEvent.Status.PROCESSED}
    assert set(
        StockMovement.objects.values_list("bling_product_id", "operation", "deposit_id")
    ) >= {
        (pid, "S", sandbox.deposit_main),
        (pid, "E", sandbox.deposit_store),
        (sandbox.sold_out_notebook, "B", sandbox.deposit_main),
    }
    assert SaleLine.objects.filter(bling_product_id=pid, source="nfce").exists()


@pytest.mark.django_db(transaction=True)
def test_a_new_product_gets_its_code_planned_in_dry_run(fake_bling, sandbox):
    memoria = next(c["id"] for c in fake_bling.categories.values() if c["descricao"] == "Memória")
    result = new_product(
        fake_bling, name="Memória Kingston 32GB DDR5", category_id=memoria, stock=2
    )
    assert result.events == ["product.created", "stock.updated"]
    rows = _events(_delivered(fake_bling, 2))
    assert {row.status for row in rows} == {WebhookEvent.Status.PROCESSED}
    pid = result.data["product_id"]
    entry = AuditLog.objects.get(action=AuditLog.Action.CODE_ASSIGNED, bling_product_id=pid)
    assert entry.dry_run is True  # a new install is in dry-run: "would assign"
    assert entry.after["codigo"].startswith("MEMO")
    assert fake_bling.products[pid]["codigo"] == ""  # nothing written to Bling


def test_the_sandbox_page_and_command_drive_a_running_sandbox(fake_bling):
    made = retail_catalog_generate(fake_bling)
    base = f"http://127.0.0.1:{fake_bling.port}"
    with urllib.request.urlopen(base + "/sandbox/", timeout=10) as resp:
        page = resp.read().decode()
    assert "Simular venda" in page and "Simular entrada" in page and "Novo produto" in page
    # A form post answers with the page and the result.
    form = urllib.parse.urlencode({"product_id": made.zeroed_by_hand, "quantity": "3"}).encode()
    with urllib.request.urlopen(base + "/sandbox/acoes/entrada", data=form, timeout=10) as resp:
        assert "Entrada de 3" in urllib.parse.unquote_plus(resp.url)
    assert fake_bling.catalog.totals(made.zeroed_by_hand) == (3.0, 3.0)
    # The command, English or Portuguese names.
    assert sandbox_command(["--url", base, "sale", "--product", str(made.zeroed_by_hand)]) == 0
    assert fake_bling.catalog.totals(made.zeroed_by_hand) == (2.0, 2.0)
    assert sandbox_command(["--url", base, "venda", "--produto", "1"]) == 1
    with pytest.raises(SystemExit):
        sandbox_command(["--url", "http://example.com", "estado"])


@pytest.mark.django_db(transaction=True)
def test_selling_the_last_unit_is_a_sold_out_by_sales_the_app_would_deactivate(fake_bling, sandbox):
    from blingsync.models import RuntimeSettings

    RuntimeSettings.load()
    RuntimeSettings.objects.filter(pk=1).update(stock_debounce_seconds=0)
    pid = sandbox.last_unit
    result = sale(fake_bling, product_id=pid, quantity=1)
    assert result.data["available"] == 0
    # order.created first, so the sale is on record when the stock event is judged
    fake_bling.wait_webhooks(timeout=20)
    rows = _events(fake_bling.sent_webhooks[-2:])
    assert {row.status for row in rows} == {WebhookEvent.Status.PROCESSED}
    from products.stock_evaluations import stock_evaluations_run_due

    stock_evaluations_run_due()
    entry = AuditLog.objects.filter(
        action=AuditLog.Action.PRODUCT_DEACTIVATED, bling_product_id=pid
    ).latest("pk")
    assert entry.dry_run is True  # dry-run: "would deactivate", Bling untouched
    assert fake_bling.products[pid]["situacao"] == "A"
