"""Kits and compositions against the fake Bling: a part sold inside kits is sold by sales,
a virtual kit follows its parts, a physical kit that posts its own stock is any product, and
compositions cost at most one detail call each per sweep. Assertions are on what the fake
ends up holding and on its request log."""

from __future__ import annotations

import uuid
from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.urls import reverse

from blingsync.models import AuditLog, JobRun
from products.category_sync import categories_sync
from products.evidence import order_record, stock_movement_from_payload
from products.kits import composition_mirror
from products.models import Composition, ProductStockState
from products.soldout import product_stock_evaluate
from tests.products.soldout_support import (
    mode_live,
    moment,
    sale,
    situation_writes,
    stock_posting,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(fake_bling, tree):
    """The tree of the sold-out tests plus a "Kits" category (default rules: deactivates),
    a motherboard and a memory module in stock, live mode."""
    mode_live()
    tree.kits = fake_bling.add_category("Kits")["id"]
    categories_sync()
    board = fake_bling.add_product("Placa Mãe B450", categoria_id=tree.placa_mae)["id"]
    memory = fake_bling.add_product("Memória DDR4 8GB", categoria_id=tree.memoria)["id"]
    stock_posting(fake_bling, board, "E", 5, at=moment(180))
    stock_posting(fake_bling, memory, "E", 4, at=moment(180))
    tree.board, tree.memory = board, memory
    return tree


def kit(fake, shop, name="Kit Upgrade B450", parts=None, **kwargs) -> int:
    parts = parts if parts is not None else [(shop.board, 1), (shop.memory, 2)]
    return fake.add_kit(name, parts, categoria_id=shop.kits, **kwargs)["id"]


def kit_sale(fake, items: list[tuple[int, float]], **order_fields) -> dict:
    """An order in Bling that posts its exits (kits by lancamentoEstoque), recorded as the
    order and stock webhooks would record it."""
    order, events = fake.sell(items, **order_fields)
    order_record(order_id=order["id"])
    for event, data in events:
        stock_movement_from_payload(
            event_type=event, data=data, occurred_at=moment(), event_id=str(uuid.uuid4())
        )
    return order


def mirror(fake, kit_id: int) -> None:
    from blingsync.bling import catalog

    composition_mirror(product=catalog.product_get(product_id=kit_id))


def sweep(command: str = "sweep_stock") -> JobRun:
    call_command(command, stdout=StringIO())
    return JobRun.objects.latest("id")


def detail_calls(fake, start: int) -> dict[int, int]:
    counts: dict[int, int] = {}
    for r in fake.requests[start:]:
        if r.method == "GET" and r.path.startswith("/produtos/") and r.path[10:].isdigit():
            pid = int(r.path[10:])
            counts[pid] = counts.get(pid, 0) + 1
    return counts


# ---------------------------------------------------------------- parts sold inside kits


def test_a_memory_sold_to_zero_only_through_kit_orders_is_deactivated(fake_bling, shop):
    upgrade = kit(fake_bling, shop, tipo_estoque="F", lancamento="M", stock=3)
    mirror(fake_bling, upgrade)
    first = kit_sale(fake_bling, [(upgrade, 1)])
    second = kit_sale(fake_bling, [(upgrade, 1)])
    assert fake_bling.catalog.totals(shop.memory) == (0.0, 0.0)

    result = product_stock_evaluate(product_id=shop.memory, dry_run=False)

    assert fake_bling.products[shop.memory]["situacao"] == "I"
    assert result.verdict == "deactivate" and result.rule == "sold_out_by_sales"
    entry = AuditLog.objects.get(action="product_deactivated", bling_product_id=shop.memory)
    assert (
        f"4 unidades vendidas: vendido no kit Kit Upgrade B450 (pedidos nº {first['numero']}, "
        f"{second['numero']})" in entry.reason
    )
    # The board still has stock, the kit posts only on its parts: both stay active.
    assert fake_bling.products[shop.board]["situacao"] == "A"
    assert fake_bling.products[upgrade]["situacao"] == "A"


def test_the_evidence_page_says_sold_in_the_kit(fake_bling, shop, client, django_user_model):
    upgrade = kit(fake_bling, shop, tipo_estoque="F", lancamento="A", stock=3)
    mirror(fake_bling, upgrade)
    order = kit_sale(fake_bling, [(upgrade, 2)])
    product_stock_evaluate(product_id=shop.memory, dry_run=False)
    viewer = django_user_model.objects.create_user("bia", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_productstockstate"))
    client.force_login(viewer)
    state = ProductStockState.objects.get(bling_product_id=shop.memory)

    page = client.get(reverse("admin:products_productstockstate_change", args=[state.pk]))

    text = page.content.decode()
    assert page.status_code == 200
    assert f"vendido no kit Kit Upgrade B450 (pedido nº {order['numero']})" in text
    assert fake_bling.products[shop.memory]["situacao"] == "I"


def test_a_kit_that_posts_only_its_own_stock_sells_none_of_its_parts(fake_bling, shop):
    own = kit(fake_bling, shop, name="Kit vitrine", tipo_estoque="F", lancamento="P", stock=1)
    mirror(fake_bling, own)
    stock_posting(fake_bling, shop.memory, "S", 4)  # a manual exit, no sale
    kit_sale(fake_bling, [(own, 1)])

    memory = product_stock_evaluate(product_id=shop.memory, dry_run=False)
    judged = product_stock_evaluate(product_id=own, dry_run=False)

    assert memory.rule == "no_sales"
    assert fake_bling.products[shop.memory]["situacao"] == "A"
    # The P kit is judged like any product: its own order sold its own stock.
    assert judged.verdict == "deactivate" and judged.rule == "sold_out_by_sales"
    assert fake_bling.products[own]["situacao"] == "I"


def test_a_physical_kit_posting_its_own_stock_is_kept_when_zeroed_by_hand(fake_bling, shop):
    own = kit(fake_bling, shop, name="Kit vitrine", tipo_estoque="F", lancamento="P", stock=2)
    mirror(fake_bling, own)
    stock_posting(fake_bling, own, "B", 0)

    judged = product_stock_evaluate(product_id=own, dry_run=False)

    assert judged.rule == "manual_balance"
    assert fake_bling.products[own]["situacao"] == "A"


# ---------------------------------------------------------------- virtual kits


def test_a_virtual_kit_whose_part_was_sold_out_by_sales_is_deactivated_then_reactivated(
    fake_bling, shop
):
    upgrade = kit(fake_bling, shop, tipo_estoque="V", lancamento="M")
    sale(fake_bling, shop.memory, 4)  # the memory sold on its own, to zero
    assert fake_bling.catalog.totals(upgrade) == (0.0, 0.0)

    run = sweep()

    assert run.status == JobRun.Status.SUCCEEDED
    assert fake_bling.products[shop.memory]["situacao"] == "I"
    assert fake_bling.products[upgrade]["situacao"] == "I"
    entry = AuditLog.objects.get(action="product_deactivated", bling_product_id=upgrade)
    assert "Kit de estoque virtual esgotado por vendas de peça" in entry.reason
    assert "Memória DDR4 8GB (saldo 0, o kit usa 2)" in entry.reason
    assert ProductStockState.objects.get(bling_product_id=upgrade).deactivated_by_blingsync

    stock_posting(fake_bling, shop.memory, "E", 2)
    sweep()

    assert fake_bling.products[shop.memory]["situacao"] == "A"
    assert fake_bling.products[upgrade]["situacao"] == "A"
    back = AuditLog.objects.get(action="product_reactivated", bling_product_id=upgrade)
    assert "todas as peças voltaram" in back.reason


def test_a_virtual_kit_is_reactivated_only_when_every_part_is_back(fake_bling, shop):
    upgrade = kit(fake_bling, shop, tipo_estoque="V", lancamento="M")
    kit_sale(fake_bling, [(upgrade, 2)])  # takes all 4 memories
    assert product_stock_evaluate(product_id=upgrade, dry_run=False).verdict == "deactivate"
    stock_posting(fake_bling, shop.memory, "E", 1)  # one memory: the kit uses two

    kept = product_stock_evaluate(product_id=upgrade, dry_run=False)

    assert kept.rule == "kit_part_still_out"
    assert fake_bling.products[upgrade]["situacao"] == "I"
    stock_posting(fake_bling, shop.memory, "E", 1)
    assert product_stock_evaluate(product_id=upgrade, dry_run=False).verdict == "reactivate"
    assert fake_bling.products[upgrade]["situacao"] == "A"


def test_a_virtual_kit_whose_part_was_zeroed_by_a_manual_balance_is_kept(fake_bling, shop):
    upgrade = kit(fake_bling, shop, tipo_estoque="V", lancamento="M")
    stock_posting(fake_bling, shop.memory, "B", 0)

    result = product_stock_evaluate(product_id=upgrade, dry_run=False)

    assert result.verdict == "keep" and result.rule == "kit_part_not_sold"
    assert "balanço (B)" in result.reason
    assert fake_bling.products[upgrade]["situacao"] == "A"
    assert situation_writes(fake_bling) == []


def test_the_kit_category_rule_applies_to_a_virtual_kit(fake_bling, shop):
    upgrade = fake_bling.add_kit(
        "Notebook com memória", [(shop.memory, 2)], categoria_id=shop.notebook
    )["id"]
    sale(fake_bling, shop.memory, 4)

    result = product_stock_evaluate(product_id=upgrade, dry_run=False)

    assert result.rule == "category_keeps"
    assert fake_bling.products[upgrade]["situacao"] == "A"


# ---------------------------------------------------------------- calls


def test_sweeps_read_each_composition_detail_at_most_once(fake_bling, shop):
    kits = [kit(fake_bling, shop, name=f"Kit {n}", tipo_estoque="V") for n in range(3)]
    kits.append(kit(fake_bling, shop, name="Kit físico", tipo_estoque="F", lancamento="A"))
    kits.append(
        fake_bling.add_kit("Kit sem código", [(shop.board, 1)], categoria_id=shop.submaquina)["id"]
    )
    for n in range(5):
        fake_bling.add_product(f"Peça {n}", categoria_id=shop.memoria)
    sale(fake_bling, shop.memory, 4)  # three virtual kits sold out with it
    start = len(fake_bling.requests)

    run = sweep()

    calls = detail_calls(fake_bling, start)
    assert calls and all(pid in kits for pid in calls)
    assert max(calls.values()) == 1
    assert set(calls) == set(kits)  # all unmirrored, so all read once
    assert run.details["composition_details"] == len(kits)
    assert Composition.objects.count() == len(kits)
    assert all(fake_bling.products[pid]["situacao"] == "I" for pid in kits[:3])

    start = len(fake_bling.requests)
    run = sweep()
    again = detail_calls(fake_bling, start)
    # Mirrored now: only the kits among the candidates are read again (the physical kit at
    # zero; the virtual ones are inactive and not back, so not listed).
    assert again == {kits[3]: 1}

    start = len(fake_bling.requests)
    sweep("sweep_codes")
    coded = detail_calls(fake_bling, start)
    assert coded and set(coded) <= set(kits) and max(coded.values()) == 1


def test_a_product_webhook_mirrors_a_kit_with_the_one_detail_it_reads(
    fake_bling, shop, post_kit_webhook
):
    upgrade = kit(fake_bling, shop, tipo_estoque="V", lancamento="M")
    start = len(fake_bling.requests)

    post_kit_webhook("product.created", {"id": upgrade, "codigo": "", "situacao": "A"})

    assert detail_calls(fake_bling, start) == {upgrade: 1}
    composition = Composition.objects.get(bling_product_id=upgrade)
    assert (composition.stock_type, composition.posting) == ("V", "M")
    assert {(p.bling_product_id, int(p.quantity)) for p in composition.parts.all()} == {
        (shop.board, 1),
        (shop.memory, 2),
    }
    fake_bling.products[upgrade]["formato"] = "S"
    post_kit_webhook("product.updated", {"id": upgrade, "codigo": "x", "situacao": "A"})
    assert not Composition.objects.filter(bling_product_id=upgrade).exists()


def test_a_part_stock_event_evaluates_the_virtual_kits_made_of_it(
    fake_bling, shop, post_kit_webhook
):
    from blingsync.models import RuntimeSettings

    RuntimeSettings.objects.filter(pk=1).update(stock_debounce_seconds=0)
    upgrade = kit(fake_bling, shop, tipo_estoque="V", lancamento="M")
    mirror(fake_bling, upgrade)
    order, events = fake_bling.sell([(shop.memory, 4)])
    post_kit_webhook("order.created", {"id": order["id"], "situacao": {"id": 9, "valor": 0}})
    (stock,) = [data for event, data in events if event == "stock.updated"]

    post_kit_webhook("stock.updated", stock)

    assert fake_bling.products[shop.memory]["situacao"] == "I"
    assert fake_bling.products[upgrade]["situacao"] == "I"


@pytest.fixture
def post_kit_webhook(bling_connected, client, fake_bling, django_capture_on_commit_callbacks):
    """Deliver one signed event and run what the receiver queued."""

    def post(event: str, data: dict) -> None:
        raw = fake_bling.webhook_body(event, data, str(uuid.uuid4()))
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/webhooks/bling/",
                data=raw,
                content_type="application/json",
                HTTP_X_BLING_SIGNATURE_256=fake_bling.sign(raw),
            )
        assert response.status_code == 200

    return post


def test_staff_see_the_kits_mirror_read_only(fake_bling, shop, client, django_user_model):
    upgrade = kit(fake_bling, shop, tipo_estoque="V", lancamento="M")
    mirror(fake_bling, upgrade)
    viewer = django_user_model.objects.create_user("caio", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_composition"))
    client.force_login(viewer)
    row = Composition.objects.get(bling_product_id=upgrade)

    listing = client.get(reverse("admin:products_composition_changelist") + f"?q={shop.memory}")
    page = client.get(reverse("admin:products_composition_change", args=[row.pk]))
    refused = client.post(
        reverse("admin:products_composition_change", args=[row.pk]),
        {"name": "outro", "stock_type": "F"},
    )

    assert listing.context["cl"].result_count == 1
    assert "Kit Upgrade B450" in page.content.decode()
    assert refused.status_code == 403
    row.refresh_from_db()
    assert (row.name, row.stock_type) == ("Kit Upgrade B450", "V")


def test_a_kit_order_after_its_stock_events_evaluates_the_parts_again(
    fake_bling, shop, post_kit_webhook
):
    from blingsync.models import RuntimeSettings

    RuntimeSettings.objects.filter(pk=1).update(stock_debounce_seconds=0)
    upgrade = kit(fake_bling, shop, tipo_estoque="F", lancamento="M", stock=2)
    mirror(fake_bling, upgrade)
    order, events = fake_bling.sell([(upgrade, 2)])
    (memory_exit,) = [d for e, d in events if d["produto"]["id"] == shop.memory]

    post_kit_webhook("stock.updated", memory_exit)  # before the order: no sale known yet
    assert fake_bling.products[shop.memory]["situacao"] == "A"
    post_kit_webhook("order.created", {"id": order["id"], "situacao": {"id": 9, "valor": 0}})

    assert fake_bling.products[shop.memory]["situacao"] == "I"
    assert fake_bling.products[upgrade]["situacao"] == "A"  # M: the kit's own stock stays


def test_a_complex_link_event_of_a_part_evaluates_its_virtual_kits(
    fake_bling, shop, post_kit_webhook
):
    from blingsync.models import RuntimeSettings

    RuntimeSettings.objects.filter(pk=1).update(stock_debounce_seconds=0)
    fake_bling.complex_link_limit = 1
    kits = [kit(fake_bling, shop, name=f"Kit {n}", tipo_estoque="V") for n in range(2)]
    for kit_id in kits:
        mirror(fake_bling, kit_id)
    order = kit_sale(fake_bling, [(shop.memory, 4)])  # the memory's own sale, to zero
    post_kit_webhook("order.created", {"id": order["id"], "situacao": {"id": 9, "valor": 0}})
    _order, events = fake_bling.sell([(shop.board, 1)])
    assert fake_bling.products[kits[0]]["situacao"] == "A"
    (linked,) = [d for e, d in events if e == "virtual_stock.updated"]
    assert linked["vinculoComplexo"] is True and linked["produto"]["id"] == shop.board

    post_kit_webhook("virtual_stock.updated", linked)

    assert [fake_bling.products[k]["situacao"] for k in kits] == ["I", "I"]


def test_mirroring_a_kit_again_rewrites_its_parts_only_when_they_changed(fake_bling, shop):
    kit_id = kit(fake_bling, shop)
    mirror(fake_bling, kit_id)
    composition = Composition.objects.get(bling_product_id=kit_id)
    first = sorted(composition.parts.values_list("pk", "bling_product_id", "quantity"))
    mirror(fake_bling, kit_id)  # an unchanged kit (another product.updated of it)
    assert sorted(composition.parts.values_list("pk", "bling_product_id", "quantity")) == first
    fake_bling.products[kit_id]["estrutura"]["componentes"][0]["quantidade"] = 3
    mirror(fake_bling, kit_id)
    quantities = dict(composition.parts.values_list("bling_product_id", "quantity"))
    assert quantities[shop.board] == 3 and quantities[shop.memory] == 2
