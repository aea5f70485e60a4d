"""Sweeps cover the whole catalog (issue 12), against the fake with Bling's default stock
filter (an omitted `filtroSaldoEstoque` lists positive stock only):
- the cursor never skips a backlog: a dry run, a `--limit` trial or a rule change leaves the
  next run full;
- products with zero or negative stock are coded, and codes held only by sold-out products
  are seen by `seed_counters` and by the collision check;
- the stock sweep judges by the deposit staff chose.
"""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.utils import timezone

from blingsync.models import JobRun, RuntimeSettings
from blingsync.tasks import scheduled_job
from products.models import CategoryRule, CodeCounter
from tests.conftest import role_user_create
from tests.products.codes_catalog import go_live, prepare
from tests.products.soldout_support import mode_live, moment, sale, stock_posting

pytestmark = pytest.mark.django_db

# Long before any cursor: what a retailer's catalog looks like the day blingsync is installed.
LONG_AGO = "2026-01-05 09:00:00"


def _sweep(*args: str) -> JobRun:
    call_command("sweep_codes", *args, stdout=io.StringIO())
    return JobRun.objects.filter(kind="codes").latest("id")


def _age_catalog(fake) -> None:
    """Every product untouched for months (the backlog an incremental run cannot see)."""
    with fake.lock:
        for product in fake.products.values():
            product["dataAlteracao"] = LONG_AGO


def _eligible_uncoded(fake, r) -> dict[str, str]:
    return {
        name: fake.products[r.ids[name]]["codigo"] for name, prefix in r.expected.items() if prefix
    }


def _refused_patches(fake) -> list:
    return [c for c in fake.calls(method="PATCH") if c.status >= 400]


def _numbers(codes, prefix: str) -> list[int]:
    return sorted(int(c[len(prefix) :]) for c in codes if re.fullmatch(prefix + r"\d{5,}", c))


def test_the_fake_hides_sold_out_products_from_an_unfiltered_listing(fake_bling, bling_connected):
    """The premise of every test below (the fake test pins it too)."""
    r = prepare(fake_bling)
    assert fake_bling.stock_filter_default == 1
    assert all(fake_bling.catalog.totals(pid)[1] == 0 for pid in r.ids.values())


def test_a_dry_run_then_live_codes_the_whole_backlog(fake_bling, bling_connected):
    r = prepare(fake_bling, live=False)
    _age_catalog(fake_bling)

    dry = _sweep()
    assert dry.details["dry_run"] is True and dry.details["complete"] is False
    assert "dry_run" not in dry.params  # asked nothing: the installation's mode decided
    assert all(code == "" for code in _eligible_uncoded(fake_bling, r).values())
    call_command("set_mode", "live", stdout=io.StringIO())
    live = _sweep()

    assert live.status == JobRun.Status.SUCCEEDED
    assert live.details["since"] is None
    assert live.details["cursor"].startswith("completa: ")
    codes = _eligible_uncoded(fake_bling, r)
    assert all(codes.values()), codes
    ntb = [c for name, c in codes.items() if r.expected[name] == "NTB"]
    # contiguous after the highest seeded NTB00041
    assert _numbers(ntb, "NTB") == list(range(42, 42 + len(ntb)))
    assert codes["Monitor novo"] == "MONI00008"
    assert codes["Placa nova"] == "PLMA00011"
    assert not _refused_patches(fake_bling)
    assert live.details["complete"] is True


def test_a_limited_live_run_then_a_plain_run_codes_the_rest(fake_bling, bling_connected):
    r = prepare(fake_bling)
    _age_catalog(fake_bling)
    trial = _sweep("--limit", "2")
    assert trial.changed == 2 and trial.details["complete"] is False
    assert sum(1 for c in _eligible_uncoded(fake_bling, r).values() if c) == 2

    rest = _sweep()

    assert rest.details["since"] is None and rest.details["cursor"].startswith("completa: ")
    assert all(_eligible_uncoded(fake_bling, r).values())
    assert rest.changed == len(r.expected) - sum(1 for p in r.expected.values() if not p) - 2
    # The one after a complete live run is incremental: from its start minus 15 minutes.
    with fake_bling.lock:
        fake_bling.requests.clear()
    after = _sweep()
    expected_since = rest.started_at - timezone.timedelta(minutes=15)
    assert after.details["since"] == expected_since.isoformat()
    assert after.details["cursor"].startswith("incremental: ")
    assert f"#{rest.pk}" in after.details["cursor"]
    listings = [c for c in fake_bling.calls(path="/produtos") if "idCategoria" in c.query]
    assert listings and all("dataAlteracaoInicial" in c.query for c in listings)


def test_a_rule_switched_to_generate_codes_products_untouched_since_the_last_run(
    fake_bling, bling_connected, client, django_user_model
):
    r = prepare(fake_bling)
    _age_catalog(fake_bling)
    assert scheduled_job("codes") == JobRun.Status.SUCCEEDED  # full: nothing complete before
    assert scheduled_job("codes") == JobRun.Status.SUCCEEDED  # incremental, nothing new
    assert (
        JobRun.objects.filter(kind="codes").latest("id").details["cursor"].startswith("incremental")
    )
    submaquina = r.ids["Submáquina"]
    assert fake_bling.products[submaquina]["codigo"] == ""
    staff = role_user_create(django_user_model, "gestao")  # may edit rules, not a superuser
    client.force_login(staff)
    rule = CategoryRule.objects.get(category_id=r.cats["SubMaquina"])
    response = client.post(
        f"/admin/products/categoryrule/{rule.pk}/change/",
        {
            "category": str(rule.category_id),
            "name_match": rule.name_match,
            "prefix": "SUBM",
            "code_policy": CategoryRule.CodePolicy.GENERATE,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]

    assert scheduled_job("codes") == JobRun.Status.SUCCEEDED

    run = JobRun.objects.filter(kind="codes").latest("id")
    assert run.trigger == JobRun.Trigger.SCHEDULE
    assert run.details["since"] is None
    assert run.details["cursor"].startswith(
        "completa: regra de categoria alterada por staff-gestao"
    )
    assert fake_bling.products[submaquina]["codigo"] == "SUBM00001"
    # the subcategory SubMaquina rules (Notebook > SubMaquina, Peças > SubMaquina) kept theirs
    assert fake_bling.products[r.ids["Submáquina de notebook"]]["codigo"] == ""


def test_products_with_zero_and_negative_stock_are_coded(fake_bling, bling_connected):
    r = prepare(fake_bling)
    monitor = r.cats["Monitor"]
    sold_out = fake_bling.add_product("Monitor esgotado", categoria_id=monitor)["id"]
    oversold = fake_bling.add_product("Monitor vendido a mais", categoria_id=monitor, stock=-1)
    stocked = fake_bling.add_product("Monitor em estoque", categoria_id=monitor, stock=3)["id"]

    run = _sweep()

    assert run.status == JobRun.Status.SUCCEEDED
    codes = {fake_bling.products[pid]["codigo"] for pid in (sold_out, oversold["id"], stocked)}
    assert all(re.fullmatch(r"MONI\d{5}", c) for c in codes) and len(codes) == 3
    listed = {
        c.query["filtroSaldoEstoque"][0]
        for c in fake_bling.calls(path="/produtos")
        if c.query.get("idCategoria") == [str(monitor)]
    }
    assert listed == {"0", "1", "2"}


def test_a_code_held_only_by_a_sold_out_product_is_never_given_again(fake_bling, bling_connected):
    r = prepare(fake_bling, live=False)
    monitor = r.cats["Monitor"]
    # Sold-out products holding codes: one before seeding, one created after it.
    fake_bling.add_product("Monitor velho esgotado", codigo="MONI00009", categoria_id=monitor)
    call_command("seed_counters", stdout=io.StringIO())
    assert CodeCounter.objects.get(prefix="MONI").last_value == 9
    fake_bling.add_product("Monitor cadastrado à mão", codigo="MONI00010", categoria_id=monitor)
    go_live()

    run = _sweep()

    assert run.status == JobRun.Status.SUCCEEDED and run.errors == 0
    assert fake_bling.products[r.ids["Monitor novo"]]["codigo"] == "MONI00011"
    assert not _refused_patches(fake_bling)  # Bling never had to refuse a duplicate
    codes = [p["codigo"] for p in fake_bling.products.values() if p["codigo"]]
    assert len(codes) == len(set(codes))
    lookups = [c for c in fake_bling.calls(path="/produtos") if "codigos[]" in c.query]
    assert {c.query["filtroSaldoEstoque"][0] for c in lookups} == {"0", "1", "2"}


def test_the_stock_sweep_judges_by_the_chosen_deposit(fake_bling, tree):
    mode_live()
    default = fake_bling.catalog.default_deposit_id()
    shop = fake_bling.add_deposit("Loja", padrao=False)["id"]
    RuntimeSettings.objects.filter(pk=1).update(stock_deposit_id=default)
    # Sold out by a sale in the chosen deposit, 5 units in another.
    here_sold_out = fake_bling.add_product("Pente vendido aqui", categoria_id=tree.memoria)["id"]
    stock_posting(fake_bling, here_sold_out, "E", 1, at=moment(120))
    sale(fake_bling, here_sold_out, 1)
    fake_bling.set_stock(here_sold_out, 5, deposit_id=shop)
    # The other way round: stock in the chosen deposit, sold out in the other one.
    there_sold_out = fake_bling.add_product("Pente vendido lá", categoria_id=tree.memoria)["id"]
    stock_posting(fake_bling, there_sold_out, "E", 1, at=moment(120), deposit_id=shop)
    sale(fake_bling, there_sold_out, 1)  # the exit goes to the default deposit: -1 here...
    fake_bling.set_stock(there_sold_out, 2, deposit_id=default)  # ...then counted: 2 here

    call_command("sweep_stock", stdout=io.StringIO())

    run = JobRun.objects.filter(kind="stock").latest("id")
    assert run.status == JobRun.Status.SUCCEEDED
    assert fake_bling.products[here_sold_out]["situacao"] == "I"
    assert fake_bling.products[there_sold_out]["situacao"] == "A"
    balance_calls = fake_bling.calls(prefix="/estoques/saldos")
    assert balance_calls and {c.path for c in balance_calls} == {f"/estoques/saldos/{default}"}
    assert all("filtroSaldoEstoque" in c.query for c in balance_calls)
    assert run.details["cursor"].startswith("completa: ")
