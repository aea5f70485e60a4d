"""`product_stock_evaluate` against the fake Bling: what the webhook processing runs after a
stock or order event. Assertions are on what the fake ends up holding."""

from __future__ import annotations

import pytest

from blingsync.models import AuditLog, RuntimeSettings
from products.models import ProductStockState
from products.soldout import SoldOutCandidate, product_stock_evaluate, soldout_process
from tests.products.soldout_support import (
    mode_live,
    moment,
    sale,
    situation_writes,
    stock_posting,
    tree_mirror,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def live(tree):
    mode_live()
    return tree


def product(fake, category_id, stock=0.0, situacao="A", nome="Memória DDR4 8GB"):
    return fake.add_product(nome, codigo="", situacao=situacao, categoria_id=category_id)["id"]


def restocked(fake, category_id, quantity=3.0):
    pid = product(fake, category_id)
    stock_posting(fake, pid, "E", quantity, at=moment(120))
    return pid


def test_it_deactivates_a_product_sold_to_zero_by_an_order(fake_bling, live):
    pid = restocked(fake_bling, live.memoria, 2)
    order_id = sale(fake_bling, pid, 2)

    result = product_stock_evaluate(product_id=pid, dry_run=False)

    assert fake_bling.products[pid]["situacao"] == "I"
    assert result.verdict == "deactivate" and result.applied
    entry = AuditLog.objects.get(action=AuditLog.Action.PRODUCT_DEACTIVATED, bling_product_id=pid)
    assert entry.outcome == AuditLog.Outcome.OK
    assert entry.before["situacao"] == "A" and entry.after == {"situacao": "I"}
    number = fake_bling.orders[order_id]["numero"]
    assert f"2 unidades vendidas no pedido {number}" in entry.reason
    state = ProductStockState.objects.get(bling_product_id=pid)
    assert state.deactivated_by_blingsync and state.situation == "I"
    assert state.last_verdict == "deactivate"


def test_it_keeps_a_product_zeroed_by_a_manual_balance(fake_bling, live):
    pid = restocked(fake_bling, live.memoria, 2)
    stock_posting(fake_bling, pid, "B", 0)

    result = product_stock_evaluate(product_id=pid, dry_run=False)

    assert fake_bling.products[pid]["situacao"] == "A"
    assert result.rule == "manual_balance"
    assert situation_writes(fake_bling) == []
    kept = AuditLog.objects.get(action=AuditLog.Action.SOLD_OUT_KEPT, bling_product_id=pid)
    assert "balanço (B)" in kept.reason


def test_it_keeps_a_product_zeroed_by_a_manual_exit_without_a_sale(fake_bling, live):
    pid = restocked(fake_bling, live.memoria, 2)
    stock_posting(fake_bling, pid, "S", 2)

    result = product_stock_evaluate(product_id=pid, dry_run=False)

    assert fake_bling.products[pid]["situacao"] == "A"
    assert result.rule == "no_sales"
    assert "saída manual (S) de 2 unidades sem venda" in result.reason


def test_it_keeps_a_product_that_never_had_stock(fake_bling, live):
    pid = product(fake_bling, live.memoria)

    result = product_stock_evaluate(product_id=pid, dry_run=False)

    assert fake_bling.products[pid]["situacao"] == "A"
    assert result.rule == "never_stocked"


def test_it_keeps_a_product_whose_only_order_was_cancelled(fake_bling, live):
    pid = product(fake_bling, live.memoria)
    sale(fake_bling, pid, 1, situacao_id=12, launch=False)

    result = product_stock_evaluate(product_id=pid, dry_run=False)

    assert fake_bling.products[pid]["situacao"] == "A"
    assert result.rule == "cancelled_only"


@pytest.mark.parametrize("category", ["notebook", "sff", "mini", "monitor"])
def test_it_keeps_products_of_excluded_categories(fake_bling, live, category):
    pid = restocked(fake_bling, getattr(live, category), 1)
    sale(fake_bling, pid, 1)

    result = product_stock_evaluate(product_id=pid, dry_run=False)

    assert fake_bling.products[pid]["situacao"] == "A"
    assert result.rule == "category_keeps"
    assert "não inativa produtos esgotados" in result.reason


@pytest.mark.parametrize("category", ["submaquina", "pecas_submaquina"])
def test_it_keeps_submaquina_as_category_and_subcategory(fake_bling, live, category):
    pid = restocked(fake_bling, getattr(live, category), 1)
    sale(fake_bling, pid, 1)

    result = product_stock_evaluate(product_id=pid, dry_run=False)

    assert fake_bling.products[pid]["situacao"] == "A"
    assert result.rule == "category_keeps"


def test_it_reactivates_a_product_it_deactivated_once_restocked(fake_bling, live):
    pid = restocked(fake_bling, live.memoria, 1)
    sale(fake_bling, pid, 1)
    product_stock_evaluate(product_id=pid, dry_run=False)
    assert fake_bling.products[pid]["situacao"] == "I"

    stock_posting(fake_bling, pid, "E", 5)
    result = product_stock_evaluate(product_id=pid, dry_run=False)

    assert fake_bling.products[pid]["situacao"] == "A"
    assert result.verdict == "reactivate" and result.applied
    entry = AuditLog.objects.get(action=AuditLog.Action.PRODUCT_REACTIVATED, bling_product_id=pid)
    assert entry.outcome == AuditLog.Outcome.OK and "voltou a 5" in entry.reason
    assert not ProductStockState.objects.get(bling_product_id=pid).deactivated_by_blingsync


def test_it_never_reactivates_a_product_staff_deactivated(fake_bling, live):
    pid = product(fake_bling, live.memoria, situacao="I")
    stock_posting(fake_bling, pid, "E", 4)

    result = product_stock_evaluate(product_id=pid, dry_run=False)

    assert fake_bling.products[pid]["situacao"] == "I"
    assert result.rule == "staff_deactivated"
    assert situation_writes(fake_bling) == []


def test_a_product_staff_reactivated_is_no_longer_blingsyncs(fake_bling, live):
    pid = restocked(fake_bling, live.memoria, 1)
    sale(fake_bling, pid, 1)
    product_stock_evaluate(product_id=pid, dry_run=False)
    stock_posting(fake_bling, pid, "E", 2)
    fake_bling.products[pid]["situacao"] = "A"  # staff reactivate it in Bling themselves
    assert product_stock_evaluate(product_id=pid, dry_run=False).rule == "in_stock"
    assert not ProductStockState.objects.get(bling_product_id=pid).deactivated_by_blingsync
    fake_bling.products[pid]["situacao"] = "I"  # ... and later deactivate it by hand

    result = product_stock_evaluate(product_id=pid, dry_run=False)

    assert result.rule == "staff_deactivated"
    assert fake_bling.products[pid]["situacao"] == "I"


def test_dry_run_writes_nothing_and_audits_would_do(fake_bling, tree):
    assert RuntimeSettings.load().mode == RuntimeSettings.Mode.DRY_RUN
    pid = restocked(fake_bling, tree.memoria, 1)
    sale(fake_bling, pid, 1)

    result = product_stock_evaluate(product_id=pid, dry_run=True)

    assert fake_bling.products[pid]["situacao"] == "A"
    assert situation_writes(fake_bling) == []
    assert result.verdict == "deactivate" and not result.applied and result.dry_run
    entry = AuditLog.objects.get(action=AuditLog.Action.PRODUCT_DEACTIVATED, bling_product_id=pid)
    assert entry.outcome == AuditLog.Outcome.WOULD_DO and entry.dry_run
    assert not ProductStockState.objects.filter(bling_product_id=pid).exists()


def test_grace_period_waits_before_deactivating(fake_bling, live):
    RuntimeSettings.objects.filter(pk=1).update(sold_out_grace_minutes=60)
    pid = restocked(fake_bling, live.memoria, 1)
    sale(fake_bling, pid, 1, at=moment(5))

    result = product_stock_evaluate(product_id=pid, dry_run=False)

    assert result.verdict == "wait_grace"
    assert fake_bling.products[pid]["situacao"] == "A"
    state = ProductStockState.objects.get(bling_product_id=pid)
    assert state.sold_out_since is not None and state.last_verdict == "wait_grace"


def test_it_counts_only_the_deposit_staff_chose(fake_bling, live):
    other = fake_bling.add_deposit("Loja", padrao=False)["id"]
    RuntimeSettings.objects.filter(pk=1).update(
        stock_deposit_id=fake_bling.catalog.default_deposit_id()
    )
    pid = restocked(fake_bling, live.memoria, 1)
    stock_posting(fake_bling, pid, "E", 3, deposit_id=other)  # stock elsewhere
    sale(fake_bling, pid, 1)

    product_stock_evaluate(product_id=pid, dry_run=False)

    assert fake_bling.products[pid]["situacao"] == "I"
    assert fake_bling.calls(method="GET", prefix="/estoques/saldos/")


def test_a_failed_write_is_audited_and_not_remembered_as_done(fake_bling, live):
    pid = restocked(fake_bling, live.memoria, 1)
    sale(fake_bling, pid, 1)
    fake_bling.fail_next(1, status=400, path_prefix=f"/produtos/{pid}/situacoes")

    result = product_stock_evaluate(product_id=pid, dry_run=False)

    assert result.error and not result.applied
    assert fake_bling.products[pid]["situacao"] == "A"
    entry = AuditLog.objects.get(action=AuditLog.Action.PRODUCT_DEACTIVATED, bling_product_id=pid)
    assert entry.outcome == AuditLog.Outcome.FAILED and entry.error
    assert not ProductStockState.objects.get(bling_product_id=pid).deactivated_by_blingsync


def test_a_batch_records_per_product_alerts(fake_bling, live):
    from blingsync.bling.catalog import product_get

    sold = []
    for _ in range(2):
        pid = restocked(fake_bling, live.memoria, 1)
        sale(fake_bling, pid, 1)
        sold.append(product_get(product_id=pid))
    gone = sold[1]
    del fake_bling.products[gone.id]  # deleted in Bling meanwhile: the batch answers alertas

    results = soldout_process(
        candidates=[SoldOutCandidate(p, p.available_stock, live.memoria) for p in sold],
        dry_run=False,
    )

    assert len(fake_bling.calls(method="POST", path="/produtos/situacoes")) == 1
    assert fake_bling.products[sold[0].id]["situacao"] == "I"
    assert results[0].applied and not results[0].error
    assert results[1].error and not results[1].applied
    failed = AuditLog.objects.get(bling_product_id=gone.id, action="product_deactivated")
    assert failed.outcome == AuditLog.Outcome.FAILED


def test_kept_decisions_are_audited_once_per_reason(fake_bling, live):
    pid = restocked(fake_bling, live.memoria, 2)
    stock_posting(fake_bling, pid, "B", 0)

    for _ in range(3):
        product_stock_evaluate(product_id=pid, dry_run=False)

    kept = AuditLog.objects.filter(action=AuditLog.Action.SOLD_OUT_KEPT, bling_product_id=pid)
    assert kept.count() == 1


def test_a_product_missing_in_bling_is_left_alone(fake_bling, live):
    result = product_stock_evaluate(product_id=99, dry_run=False)
    assert result.rule == "not_found"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_evaluations_of_one_product_agree(fake_bling, bling_connected):
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    tree = tree_mirror(fake_bling)
    mode_live()
    pid = restocked(fake_bling, tree.memoria, 1)
    sale(fake_bling, pid, 1)

    def evaluate(_n: int) -> str:
        try:
            return product_stock_evaluate(product_id=pid, dry_run=False).verdict
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        verdicts = list(pool.map(evaluate, range(6)))

    assert set(verdicts) <= {"deactivate", "keep"}
    assert fake_bling.products[pid]["situacao"] == "I"
    state = ProductStockState.objects.get(bling_product_id=pid)
    assert state.deactivated_by_blingsync


def test_a_stale_read_does_not_undo_a_deactivation_made_meanwhile(fake_bling, live):
    from datetime import timedelta

    from django.utils import timezone

    from blingsync.bling.catalog import product_get

    pid = restocked(fake_bling, live.memoria, 1)
    sale(fake_bling, pid, 1)
    read_before = timezone.now() - timedelta(seconds=1)
    stale = product_get(product_id=pid)  # the sweep reads it while still active ...
    product_stock_evaluate(
        product_id=pid, dry_run=False
    )  # ... and a webhook evaluation deactivates it
    assert ProductStockState.objects.get(bling_product_id=pid).deactivated_by_blingsync

    # The sweep goes on with what it read (active, sold out): at worst it deactivates again,
    # it must never conclude that someone reactivated the product.
    soldout_process(
        candidates=[SoldOutCandidate(stale, stale.available_stock, live.memoria, read_before)],
        dry_run=False,
    )

    assert ProductStockState.objects.get(bling_product_id=pid).deactivated_by_blingsync


def test_when_bling_is_unavailable_the_failure_is_audited_and_raised(fake_bling, live):
    from blingsync.bling.errors import BlingUnavailable

    pid = restocked(fake_bling, live.memoria, 1)
    sale(fake_bling, pid, 1)
    fake_bling.fail_next(50, status=503, path_prefix=f"/produtos/{pid}/situacoes")

    with pytest.raises(BlingUnavailable):
        product_stock_evaluate(product_id=pid, dry_run=False)

    fake_bling.recover()
    assert fake_bling.products[pid]["situacao"] == "A"
    # No answer: whether the write landed is unknown, so its intent and audit stay open...
    entry = AuditLog.objects.get(action=AuditLog.Action.PRODUCT_DEACTIVATED, bling_product_id=pid)
    assert entry.outcome == AuditLog.Outcome.PENDING
    state = ProductStockState.objects.get(bling_product_id=pid)
    assert state.intent_situation == "I" and state.intent_audit_id == entry.pk
    assert not state.deactivated_by_blingsync
    # ...until recovery reads Bling: still active, so not applied.
    from datetime import timedelta

    from django.utils import timezone

    from products.intents import stock_intents_settle

    assert stock_intents_settle(now=timezone.now() + timedelta(minutes=3)) == {
        "applied": 0,
        "not_applied": 1,
    }
    entry.refresh_from_db()
    assert entry.outcome == AuditLog.Outcome.FAILED and "não aplicada" in entry.error
    state.refresh_from_db()
    assert state.intent_situation == "" and not state.deactivated_by_blingsync
