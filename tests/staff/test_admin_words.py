"""The admin in the retailer's words (issue 16): products by name and code with a link to
Bling, reasons as sentences in the admin's language built from data, skipped runs that say
why, the deposit setting as a choice among the account's deposits."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.core.management import call_command
from django.utils import translation

from blingsync import jobrunner
from blingsync.audit_reasons import audit_reason_text
from blingsync.jobrunner import JobSpec, job_run_create, job_run_execute, job_run_now
from blingsync.models import AuditLog, JobRun, RuntimeSettings
from tests.products.codes_catalog import prepare
from tests.staff.test_runtime_settings_admin import form_data

pytestmark = pytest.mark.django_db

AUDIT_URL = "/admin/blingsync/auditlog/"
SETTINGS_URL = "/admin/blingsync/runtimesettings/1/change/"


@pytest.fixture
def manager_client(client, django_user_model):
    """A staff member (not a superuser) who may look at everything, edit the settings and
    export the audit."""
    user = django_user_model.objects.create_user(
        username="bia", password="segredo-forte-123", is_staff=True
    )
    wanted = [
        "view_auditlog",
        "view_jobrun",
        "view_runtimesettings",
        "change_runtimesettings",
        "view_productstockstate",
        "export_audit",
    ]
    user.user_permissions.set(Permission.objects.filter(codename__in=wanted))
    client.force_login(user)
    return client


@pytest.fixture
def dry_sweep(fake_bling, bling_connected):
    """The retailer's catalog after a dry-run code sweep."""
    retailer = prepare(fake_bling, live=False)
    fake_bling.requests.clear()
    call_command("sweep_codes", "--dry-run", stdout=io.StringIO())
    return retailer


def _entry(retailer, name: str) -> AuditLog:
    return AuditLog.objects.get(
        action=AuditLog.Action.CODE_ASSIGNED, bling_product_id=retailer.ids[name]
    )


def test_audit_rows_keep_the_name_read_by_the_sweep_without_extra_calls(fake_bling, dry_sweep):
    teclado = _entry(dry_sweep, "Teclado novo")
    assert teclado.product_name == "Teclado novo"
    assert teclado.code == "TEMO00001" and teclado.dry_run
    # the name came from the list pages the sweep read anyway: no detail call per product
    details = [c for c in fake_bling.calls(method="GET") if c.path.startswith("/produtos/")]
    assert details == []
    names = set(
        AuditLog.objects.filter(action=AuditLog.Action.CODE_ASSIGNED).values_list(
            "product_name", flat=True
        )
    )
    assert "" not in names and {"Placa nova", "Notebook novo 1"} <= names


def test_reasons_are_data_and_read_as_sentences_in_the_admins_language(dry_sweep):
    teclado = _entry(dry_sweep, "Teclado novo")
    assert teclado.reason_rule == "code.prefix_derived"
    assert teclado.reason_data == {
        "prefix": "TEMO",
        "category": "Teclado Mouse",
        "derived_from": "Teclado Mouse",
        "policy_category": "",
    }
    with translation.override("pt-br"):
        pt = audit_reason_text(teclado)
    with translation.override("en"):
        en = audit_reason_text(teclado)
    assert pt == "Prefixo TEMO, derivado do nome da categoria “Teclado Mouse”."
    assert en == "Prefix TEMO, derived from the name of the category “Teclado Mouse”."
    placa = _entry(dry_sweep, "Placa nova")  # Peças says: codes for its subcategories
    with translation.override("pt-br"):
        assert audit_reason_text(placa) == (
            "Prefixo PLMA, derivado do nome da categoria “Placa Mãe”. "
            "Códigos gerados conforme a regra de “Peças”."
        )
    dell = _entry(dry_sweep, "Dell novo")
    assert dell.reason_rule == "code.prefix_rule"
    assert dell.reason_data["prefix_category"] == "Notebook"
    with translation.override("pt-br"):
        assert "definido na regra da categoria “Notebook”" in audit_reason_text(dell)
    for text in (pt, en, audit_reason_text(dell)):
        assert "policy=" not in text and "prefix=" not in text


def test_the_audit_list_shows_names_codes_links_and_sentences(manager_client, dry_sweep):
    pid = dry_sweep.ids["Teclado novo"]
    response = manager_client.get(AUDIT_URL)
    assert response.status_code == 200
    page = response.text
    assert "Teclado novo" in page and "TEMO00001" in page
    assert f'href="https://www.bling.com.br/produtos.php#edit/{pid}"' in page
    assert "derivado do nome da categoria" in page
    assert "policy=" not in page
    # searching by name finds it
    found = manager_client.get(AUDIT_URL, {"q": "Teclado"})
    assert "TEMO00001" in found.text and "PLMA" not in found.text


def test_staff_filter_by_the_rule_that_decided(manager_client, dry_sweep):
    response = manager_client.get(AUDIT_URL, {"reason_rule": "code.prefix_rule"})
    assert response.status_code == 200
    assert "código: prefixo definido em uma regra" in response.text  # the filter's choice
    assert "Dell novo" in response.text and "Teclado novo" not in response.text


def test_the_csv_keeps_the_sentence_and_the_fields(manager_client, dry_sweep):
    response = manager_client.get(f"{AUDIT_URL}export-csv/", {"reason_rule": "code.prefix_derived"})
    body = b"".join(response.streaming_content).decode("utf-8").removeprefix("\ufeff")
    header, *rows = list(csv.reader(io.StringIO(body), delimiter=";"))
    records = [dict(zip(header, row, strict=True)) for row in rows]
    teclado = next(r for r in records if r["produto"] == "Teclado novo")
    assert teclado["motivo"].startswith("Prefixo TEMO, derivado do nome")
    assert teclado["regra"] == "código: prefixo derivado do nome"
    assert "Teclado Mouse" in teclado["dados do motivo"]
    assert not teclado["dados do motivo"].startswith("{")
    assert {r["regra"] for r in records} == {"código: prefixo derivado do nome"}


def test_in_english_the_audit_reads_in_english(manager_client, dry_sweep):
    response = manager_client.get(AUDIT_URL, headers={"accept-language": "en"})
    assert "derived from the name of the category" in response.text
    assert "derivado do nome" not in response.text


def test_a_job_runs_audit_lines_and_the_dashboard_show_names(manager_client, dry_sweep):
    run = JobRun.objects.filter(kind="codes").latest("id")
    page = manager_client.get(f"/admin/blingsync/jobrun/{run.pk}/change/").text
    assert "Teclado novo" in page or "Notebook novo 1" in page
    assert "https://www.bling.com.br/produtos.php#edit/" in page
    assert "policy=" not in page
    dashboard = manager_client.get("/dashboard/").text
    assert "https://www.bling.com.br/produtos.php#edit/" in dashboard
    assert "policy=" not in dashboard


def test_sold_out_reasons_are_sentences_from_their_facts():
    from datetime import date, datetime, timedelta
    from decimal import Decimal
    from zoneinfo import ZoneInfo

    from blingsync.audit_reasons import reason_sentence
    from products.soldout_rules import Movement, Sale, SoldOutFacts, sold_out_decide

    tz = ZoneInfo("America/Sao_Paulo")
    now = datetime(2026, 3, 10, 12, 0, tzinfo=tz)
    decision = sold_out_decide(
        SoldOutFacts(
            situation="A",
            available_stock=Decimal(0),
            now=now,
            movements=[Movement(now - timedelta(days=5), "E", Decimal(2), Decimal(2))],
            sales=[
                Sale(order_id=7, order_number="1007", day=date(2026, 3, 8), quantity=Decimal(2))
            ],
            tz=tz,
        )
    )
    assert decision.rule == "sold_out_by_sales"
    data = json.loads(json.dumps(decision.facts))  # stored as JSON
    with translation.override("pt-br"):
        pt = reason_sentence(rule=f"soldout.{decision.rule}", data=data)
    with translation.override("en"):
        en = reason_sentence(rule=f"soldout.{decision.rule}", data=data)
    assert pt.startswith("Esgotado por vendas: 2 unidades vendidas no pedido 1007 (08/03/2026)")
    assert "desde a última entrada de 2 unidades em 05/03/2026" in pt
    assert pt == decision.reason  # the text stored with the decision is the same sentence
    assert en.startswith("Sold out by sales: 2 units sold in order 1007 (03/08/2026)")
    assert "available stock 0" in en


# --- skipped runs say why -------------------------------------------------------------------


def _labels(client) -> str:
    return client.get("/admin/blingsync/jobrun/").text


def test_each_kind_of_skip_has_its_own_label(
    manager_client, fake_bling, bling_connected, monkeypatch
):
    def handler(ctx):
        return None

    monkeypatch.setitem(jobrunner._REGISTRY, "orders", JobSpec(kind="orders", handler=handler))
    # another run in progress
    running = job_run_create(kind="orders", trigger="admin")
    JobRun.objects.filter(pk=running.pk).update(status=JobRun.Status.RUNNING)
    overlap = job_run_now(kind="orders", trigger="admin")
    JobRun.objects.filter(pk=running.pk).update(status=JobRun.Status.SUCCEEDED)
    # paused
    RuntimeSettings.objects.filter(pk=RuntimeSettings.load().pk).update(mode="paused")
    paused = job_run_now(kind="orders", trigger="admin")
    RuntimeSettings.objects.update(mode="dry_run")
    # Bling unavailable (a sweep reaching Bling while it is down)
    fake_bling.outage(503)
    unavailable = job_run_now(kind="categories", trigger="admin")
    fake_bling.recover()
    expected = {
        overlap.pk: "overlap",
        paused.pk: "paused",
        unavailable.pk: "bling_unavailable",
    }
    for pk, reason in expected.items():
        run = JobRun.objects.get(pk=pk)
        assert run.status == JobRun.Status.SKIPPED and run.skip_reason == reason, run.error
    page = _labels(manager_client)
    assert "Ignorado: outra execução em andamento" in page
    assert "Ignorado: instalação pausada" in page
    assert "Ignorado: Bling indisponível" in page


def test_a_run_without_a_connection_says_so(manager_client, fake_bling):
    run = job_run_execute(run_id=job_run_create(kind="categories", trigger="schedule").pk)
    assert run.status == JobRun.Status.SKIPPED
    assert run.skip_reason == JobRun.SkipReason.NOT_CONNECTED
    assert "Ignorado: Bling não conectado" in _labels(manager_client)
    english = manager_client.get("/admin/blingsync/jobrun/", headers={"accept-language": "en"})
    assert "Skipped: Bling not connected" in english.text


# --- runtime settings -----------------------------------------------------------------------


def test_the_settings_page_is_translated_and_offers_the_accounts_deposits(
    manager_client, fake_bling, bling_connected
):
    cache.clear()
    loja = fake_bling.add_deposit("Loja Centro", padrao=False)
    closed = fake_bling.add_deposit("Antigo", padrao=False)
    closed["situacao"] = 0
    page = manager_client.get(SETTINGS_URL).text
    assert "Alterado em" in page and "Alterado por" in page
    assert "Updated at" not in page and "Updated by" not in page
    assert "Todos os depósitos (soma dos saldos)" in page
    assert f'<option value="{loja["id"]}">Loja Centro</option>' in page
    assert "Geral (padrão do Bling)" in page
    assert "Antigo" not in page  # inactive deposits are not offered
    english = manager_client.get(SETTINGS_URL, headers={"accept-language": "en"}).text
    assert "Changed at" in english and "All deposits (sum of balances)" in english
    # cached: the two views asked Bling once
    assert len(fake_bling.calls(method="GET", path="/depositos")) == 1

    response = manager_client.post(SETTINGS_URL, form_data(stock_deposit_id=loja["id"]))
    assert response.status_code == 302
    assert RuntimeSettings.load().stock_deposit_id == loja["id"]
    # a deposit the account does not have is refused, and nothing changes
    response = manager_client.post(SETTINGS_URL, form_data(stock_deposit_id=closed["id"]))
    assert response.status_code == 200 and "errorlist" in response.text
    assert RuntimeSettings.load().stock_deposit_id == loja["id"]
    # blank means every deposit
    manager_client.post(SETTINGS_URL, form_data(stock_deposit_id=""))
    assert RuntimeSettings.load().stock_deposit_id is None


def test_without_bling_the_current_deposit_is_kept(manager_client, fake_bling):
    cache.clear()
    RuntimeSettings.objects.update_or_create(pk=1, defaults={"stock_deposit_id": 777})
    page = manager_client.get(SETTINGS_URL).text
    assert "Não foi possível ler os depósitos do Bling agora" in page
    assert '<option value="777" selected>Depósito 777 (não listado pelo Bling)</option>' in page
    response = manager_client.post(SETTINGS_URL, form_data(stock_deposit_id="777"))
    assert response.status_code == 302
    assert RuntimeSettings.load().stock_deposit_id == 777


# --- the webhook path: the product read by the evaluation names the audit row -------------


def test_a_webhook_evaluation_names_the_product_and_says_why_in_both_languages(
    fake_bling, bling_connected, manager_client
):
    from products.evidence import order_situations_cache_clear
    from products.soldout import product_stock_evaluate
    from tests.products.soldout_support import (
        mode_live,
        moment,
        sale,
        stock_posting,
        tree_mirror,
    )

    order_situations_cache_clear()
    tree = tree_mirror(fake_bling)
    mode_live()
    pid = fake_bling.add_product("Memória DDR4 8GB", codigo="MEMO00009", categoria_id=tree.memoria)[
        "id"
    ]
    stock_posting(fake_bling, pid, "E", 2, at=moment(120))
    order_id = sale(fake_bling, pid, 2)
    number = str(fake_bling.orders[order_id]["numero"])
    reads_before = len(fake_bling.calls(method="GET", path=f"/produtos/{pid}"))

    product_stock_evaluate(product_id=pid, dry_run=False)

    assert fake_bling.products[pid]["situacao"] == "I"
    # one read of the product by the evaluation itself; the audit row did not add any
    assert len(fake_bling.calls(method="GET", path=f"/produtos/{pid}")) == reads_before + 1
    entry = AuditLog.objects.get(action=AuditLog.Action.PRODUCT_DEACTIVATED, bling_product_id=pid)
    assert entry.product_name == "Memória DDR4 8GB" and entry.product_code == "MEMO00009"
    assert entry.reason_rule == "soldout.sold_out_by_sales"
    assert entry.reason_data["orders"] == [number] and entry.reason_data["sold"] == "2"
    with translation.override("pt-br"):
        assert audit_reason_text(entry).startswith(
            f"Esgotado por vendas: 2 unidades vendidas no pedido {number}"
        )
        assert audit_reason_text(entry) == entry.reason  # stored and rendered read the same
    with translation.override("en"):
        assert audit_reason_text(entry).startswith(
            f"Sold out by sales: 2 units sold in order {number}"
        )
    # the evidence page names the product and opens it in Bling
    from products.models import ProductStockState

    state = ProductStockState.objects.get(bling_product_id=pid)
    state_page = manager_client.get(f"/admin/products/productstockstate/{state.pk}/change/")
    assert state_page.status_code == 200
    assert f"https://www.bling.com.br/produtos.php#edit/{pid}" in state_page.text
    assert "Esgotado por vendas" in state_page.text  # the decisions table, as a sentence
