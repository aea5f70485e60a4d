"""`python manage.py sweep_stock` (job kind `stock`) against the fake Bling."""

from __future__ import annotations

import math

import pytest
from django.core.management import CommandError, call_command

from blingsync.models import AuditLog, JobRun
from products.models import ProductStockState
from tests.products.soldout_support import (
    mode_live,
    moment,
    sale,
    situation_writes,
    stock_posting,
)

pytestmark = pytest.mark.django_db


def sold_out(fake, category_id, nome="Peça vendida"):
    pid = fake.add_product(nome, categoria_id=category_id)["id"]
    stock_posting(fake, pid, "E", 1, at=moment(120))
    sale(fake, pid, 1)
    return pid


def zeroed_by_hand(fake, category_id):
    pid = fake.add_product("Peça ajustada", categoria_id=category_id)["id"]
    stock_posting(fake, pid, "E", 2, at=moment(120))
    stock_posting(fake, pid, "B", 0)
    return pid


def sweep(*args: str) -> tuple[JobRun, str]:
    from io import StringIO

    out = StringIO()
    call_command("sweep_stock", *args, stdout=out)
    return JobRun.objects.filter(kind="stock").latest("id"), out.getvalue()


def bling_calls_during(fake, start: int) -> list:
    return [r for r in fake.requests[start:] if not r.path.startswith("/oauth")]


def bound(calls: list) -> tuple[int, int, int]:
    pages = sum(1 for r in calls if r.method == "GET" and r.path == "/produtos")
    balances = sum(1 for r in calls if r.path.startswith("/estoques/saldos"))
    writes = sum(1 for r in calls if r.path.endswith("/situacoes"))
    return pages, balances, writes


def test_it_deactivates_what_sales_sold_out_and_keeps_the_rest(fake_bling, tree):
    mode_live()
    sold = [sold_out(fake_bling, tree.memoria) for _ in range(3)]
    sold.append(sold_out(fake_bling, tree.placa_mae))
    manual = zeroed_by_hand(fake_bling, tree.memoria)
    notebook = sold_out(fake_bling, tree.notebook)
    submaquina = sold_out(fake_bling, tree.pecas_submaquina)
    in_stock = fake_bling.add_product("Em estoque", categoria_id=tree.memoria, stock=5)["id"]

    run, out = sweep()

    assert run.status == JobRun.Status.SUCCEEDED
    for pid in sold:
        assert fake_bling.products[pid]["situacao"] == "I"
    for pid in (manual, notebook, submaquina, in_stock):
        assert fake_bling.products[pid]["situacao"] == "A"
    assert run.changed == 4
    assert run.details["skipped_by_reason"] == {"manual_balance": 1}
    assert AuditLog.objects.filter(action="product_deactivated", outcome="ok").count() == 4
    # Three products in one category, one in another: one PATCH and one batch POST.
    assert len(fake_bling.calls(method="POST", path="/produtos/situacoes")) == 1
    assert len(fake_bling.calls(method="PATCH")) == 0 or run.details["writes"] == 2
    assert "Estoque esgotado" in out and "alterados 4" in out and "chamadas à API do Bling" in out


def test_it_lists_candidates_with_filters_never_one_call_per_product(fake_bling, tree):
    mode_live()
    for _ in range(5):
        sold_out(fake_bling, tree.memoria)
    start = len(fake_bling.requests)

    sweep()

    calls = bling_calls_during(fake_bling, start)
    assert not [r for r in calls if r.method == "GET" and r.path.startswith("/produtos/")]
    # The kits listing (tipo=E, products/kits.py) is one more filter, not a candidate list.
    listed = [
        r
        for r in calls
        if r.method == "GET" and r.path == "/produtos" and r.query.get("tipo") != ["E"]
    ]
    assert listed
    for r in listed:
        assert r.query["criterio"] == ["2"]
        assert r.query["filtroSaldoEstoque"][0] in ("0", "2")
        assert r.query["idCategoria"]


def test_its_bling_calls_stay_within_the_lower_bound(fake_bling, tree):
    mode_live()
    for _ in range(230):  # three balance batches, three batch writes
        pid = fake_bling.add_product("Pente de memória", categoria_id=tree.memoria)["id"]
        stock_posting(fake_bling, pid, "E", 1, at=moment(120))
        sale(fake_bling, pid, 1)
    deactivated = []
    for _ in range(3):
        pid = fake_bling.add_product("Reposto", categoria_id=tree.placa_mae, situacao="I")["id"]
        ProductStockState.objects.create(
            bling_product_id=pid, situation="I", deactivated_by_blingsync=True
        )
        fake_bling.set_stock(pid, 4)
        deactivated.append(pid)
    start = len(fake_bling.requests)

    run, _out = sweep()

    calls = bling_calls_during(fake_bling, start)
    pages, balances, writes = bound(calls)
    assert run.api_calls == len(calls)
    # One balance call answers one stock state: 100 per call and state (230 zero, 3 positive).
    assert balances == math.ceil(230 / 100) + math.ceil(3 / 100)
    assert writes == math.ceil(230 / 100) + 1  # deactivations in batches, one reactivation batch
    assert run.api_calls <= 1.2 * (pages + balances + writes)
    assert run.changed == 233
    assert all(fake_bling.products[pid]["situacao"] == "A" for pid in deactivated)
    assert sum(1 for p in fake_bling.products.values() if p["situacao"] == "I") == 230


def test_it_reactivates_only_what_it_deactivated(fake_bling, tree):
    mode_live()
    ours = sold_out(fake_bling, tree.memoria)
    sweep()
    assert fake_bling.products[ours]["situacao"] == "I"
    stock_posting(fake_bling, ours, "E", 3)
    staff = fake_bling.add_product("Inativado à mão", categoria_id=tree.memoria, situacao="I")
    fake_bling.set_stock(staff["id"], 3)

    run, _out = sweep()

    assert fake_bling.products[ours]["situacao"] == "A"
    assert fake_bling.products[staff["id"]]["situacao"] == "I"
    assert AuditLog.objects.get(action="product_reactivated").bling_product_id == ours
    reactivation_lists = [
        r
        for r in fake_bling.calls(method="GET", path="/produtos")
        if r.query.get("criterio") == ["3"]
    ]
    assert reactivation_lists and all(
        r.query["filtroSaldoEstoque"] == ["1"] and r.query["idsProdutos[]"] == [str(ours)]
        for r in reactivation_lists
    )


def test_a_product_reactivated_by_hand_is_forgotten(fake_bling, tree):
    mode_live()
    pid = sold_out(fake_bling, tree.memoria)
    sweep()
    fake_bling.products[pid]["situacao"] = "A"

    run, _out = sweep()

    assert fake_bling.products[pid]["situacao"] == "A"
    assert not ProductStockState.objects.get(bling_product_id=pid).deactivated_by_blingsync
    assert run.details["skipped_by_reason"] == {"reactivated_by_hand": 1}


def test_dry_run_writes_nothing(fake_bling, tree):
    mode_live()
    pid = sold_out(fake_bling, tree.memoria)

    run, out = sweep("--dry-run")

    assert fake_bling.products[pid]["situacao"] == "A"
    assert situation_writes(fake_bling) == []
    # A simulation's would-be change is a change of its plan, never a skip.
    assert run.details["dry_run"] is True and run.changed == 1 and run.skipped == 0
    assert "skipped_by_reason" not in run.details
    assert run.plan_items.get().bling_product_id == pid
    entry = AuditLog.objects.get(action="product_deactivated")
    assert entry.outcome == AuditLog.Outcome.WOULD_DO
    assert "(simulação)" in out


def test_the_install_in_dry_run_mode_writes_nothing(fake_bling, tree):
    pid = sold_out(fake_bling, tree.memoria)

    run, _out = sweep()

    assert run.details["dry_run"] is True
    assert fake_bling.products[pid]["situacao"] == "A"


def test_limit_stops_after_that_many_products(fake_bling, tree):
    mode_live()
    for _ in range(4):
        sold_out(fake_bling, tree.memoria)

    run, _out = sweep("--limit", "2")

    assert run.seen == 2 and run.changed == 2
    assert sum(1 for p in fake_bling.products.values() if p["situacao"] == "I") == 2


def test_since_filters_the_candidate_lists_by_change_date(fake_bling, tree):
    mode_live()
    sold_out(fake_bling, tree.memoria)

    sweep("--since", "2026-01-02")

    listed = fake_bling.calls(method="GET", path="/produtos")
    assert listed and all("dataAlteracaoInicial" in r.query for r in listed)


def test_a_bad_since_is_refused():
    with pytest.raises(CommandError, match="--since"):
        call_command("sweep_stock", "--since", "ontem")


def test_it_fails_clearly_without_a_bling_connection(fake_bling):
    with pytest.raises(CommandError, match="Bling não conectado"):
        call_command("sweep_stock")


def test_variations_are_decided_one_by_one_and_the_parent_is_left_alone(fake_bling, tree):
    mode_live()
    parent = fake_bling.add_product("Memória DDR4", categoria_id=tree.memoria)["id"]
    small = fake_bling.add_variation(parent, "Memória DDR4 8GB")["id"]
    large = fake_bling.add_variation(parent, "Memória DDR4 16GB")["id"]
    stock_posting(fake_bling, small, "E", 1, at=moment(120))
    sale(fake_bling, small, 1)

    run, _out = sweep()

    assert fake_bling.products[small]["situacao"] == "I"
    assert fake_bling.products[large]["situacao"] == "A"  # never had stock
    assert fake_bling.products[parent]["situacao"] == "A"
    assert run.details["rules"]["has_variations"] == 1
