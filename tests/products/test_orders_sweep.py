"""`python manage.py sweep_orders` (job kind `orders`) against the fake Bling."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from blingsync.models import JobRun
from products.models import SaleLine

pytestmark = pytest.mark.django_db


def sweep(*args: str) -> tuple[JobRun, str]:
    out = StringIO()
    call_command("sweep_orders", *args, stdout=out)
    return JobRun.objects.filter(kind="orders").latest("id"), out.getvalue()


def lines() -> list[tuple]:
    return sorted(
        SaleLine.objects.values_list("order_id", "line", "bling_product_id", "quantity", "counted")
    )


@pytest.fixture
def orders(bling_connected, fake_bling):
    a = fake_bling.add_product("A")["id"]
    b = fake_bling.add_product("B")["id"]
    return [
        fake_bling.add_order(items=[(a, 1)], situacao_id=9),
        fake_bling.add_order(items=[(a, 2), (b, 1)], situacao_id=6),
        fake_bling.add_order(items=[(b, 3)], situacao_id=12),
    ]


def test_it_records_the_lines_of_changed_orders(fake_bling, orders):
    run, out = sweep()

    assert run.status == JobRun.Status.SUCCEEDED
    assert run.seen == 3
    assert SaleLine.objects.count() == 4
    assert not SaleLine.objects.get(order_id=orders[2]["id"]).counted
    assert SaleLine.objects.filter(counted=True).count() == 3
    assert "itens vendidos: 4" in out and "chamadas à API do Bling" in out


def test_it_is_idempotent(fake_bling, orders):
    sweep()
    before = lines()

    sweep("--since", "2020-01-01")
    sweep("--since", "2020-01-01")

    assert lines() == before


def test_it_costs_one_list_plus_one_detail_per_order(fake_bling, orders):
    start = len(fake_bling.requests)

    run, _out = sweep()

    calls = [r for r in fake_bling.requests[start:] if not r.path.startswith("/oauth")]
    listed = [r for r in calls if r.path == "/pedidos/vendas"]
    details = [r for r in calls if r.path.startswith("/pedidos/vendas/")]
    situations = [r for r in calls if r.path.startswith("/situacoes/modulos")]
    assert len(listed) == 1 and "dataAlteracaoInicial" in listed[0].query
    assert len(details) == 3
    assert len(situations) == 2  # module list + the sales module's situations, once per run
    assert run.api_calls == len(calls) == 6


def test_an_order_cancelled_later_stops_counting(fake_bling, orders):
    sweep()
    fake_bling.orders[orders[0]["id"]]["situacao"]["id"] = 12

    sweep("--since", "2020-01-01")

    assert not SaleLine.objects.get(order_id=orders[0]["id"]).counted


def test_dry_run_still_records_the_evidence(fake_bling, orders):
    run, out = sweep("--dry-run")

    assert run.details["dry_run"] is True
    assert SaleLine.objects.count() == 4
    assert not fake_bling.calls(method="PATCH") and not fake_bling.calls(method="POST")


def test_limit_stops_after_that_many_orders(fake_bling, orders):
    run, _out = sweep("--limit", "2")
    assert run.seen == 2
    assert SaleLine.objects.values("order_id").distinct().count() == 2


def test_it_fails_clearly_without_a_bling_connection(fake_bling):
    with pytest.raises(CommandError, match="Bling não conectado"):
        call_command("sweep_orders")


def test_a_bad_limit_is_refused():
    with pytest.raises(CommandError, match="--limit"):
        call_command("sweep_orders", "--limit", "0")
