"""The plan page (SPEC 5.14) as non-superuser staff of each role: gestão reviews, applies the
selected items and undoes; operação sees the plan but cannot apply or undo (nothing changes)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from blingsync.models import JobRun, RuntimeSettings
from products.models import CodeCounter, PlanItem
from tests.products.soldout_support import moment, sale, situation_writes, stock_posting

pytestmark = pytest.mark.django_db


def _stock_plan(fake, tree, n=3):
    pids = []
    for i in range(n):
        pid = fake.add_product(f"Pente de memória {i}", categoria_id=tree.memoria)["id"]
        stock_posting(fake, pid, "E", 1, at=moment(120))
        sale(fake, pid, 1)
        pids.append(pid)
    call_command("sweep_stock", stdout=io.StringIO())  # dry-run mode: a plan
    return JobRun.objects.filter(kind="stock").latest("id"), pids


def test_gestao_reviews_applies_selected_and_undoes(
    fake_bling, tree, role_client, django_capture_on_commit_callbacks
):
    run, pids = _stock_plan(fake_bling, tree)
    client = role_client("gestao")
    url = reverse("admin:products_plan", args=[run.pk])

    page = client.get(url).text
    assert "Pente de memória 0" in page and "Inativar" in page
    assert "Esgotado por vendas" in page or "esgotado por vendas" in page
    assert 'id="plan-apply-all"' in page and 'id="plan-apply-selected"' in page
    assert "Memória" in page  # totals by category
    searched = client.get(url, {"q": "memória 1"}).text
    assert "Pente de memória 1" in searched and "Pente de memória 2" not in searched
    csv = client.get(reverse("admin:products_plan_csv", args=[run.pk]))
    body = b"".join(csv.streaming_content).decode("utf-8-sig")
    assert body.count("\n") == 4 and "Pente de memória 2" in body
    # Linked from the run's page and the dashboard.
    assert url in client.get(reverse("admin:blingsync_jobrun_change", args=[run.pk])).text
    dashboard = client.get("/dashboard/").text
    assert "Plano pendente: 3 inativações" in dashboard and url in dashboard

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:products_plan_apply", args=[run.pk]),
            {"selected": "1", "ids": [str(pids[0]), str(pids[1])]},
        )
    assert response.status_code == 302
    assert fake_bling.products[pids[0]]["situacao"] == "I"
    assert fake_bling.products[pids[1]]["situacao"] == "I"
    assert fake_bling.products[pids[2]]["situacao"] == "A"  # not selected
    assert RuntimeSettings.load().mode == RuntimeSettings.Mode.DRY_RUN
    apply_run = JobRun.objects.get(kind="plan")
    assert apply_run.requested_by == "staff-gestao"
    assert "Desfazer inativações" in client.get(url).text

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:products_run_undo", args=[apply_run.pk]))
    assert fake_bling.products[pids[0]]["situacao"] == "A"
    assert fake_bling.products[pids[1]]["situacao"] == "A"
    assert JobRun.objects.get(kind="undo").status == JobRun.Status.SUCCEEDED


def test_operacao_sees_the_plan_but_cannot_apply_or_undo(
    fake_bling, tree, role_client, django_capture_on_commit_callbacks
):
    run, pids = _stock_plan(fake_bling, tree, n=2)
    client = role_client("operacao")
    page = client.get(reverse("admin:products_plan", args=[run.pk])).text
    assert "Pente de memória 0" in page
    assert 'id="plan-apply-all"' not in page and "plan-item-check" not in page
    writes = len(situation_writes(fake_bling))
    with django_capture_on_commit_callbacks(execute=True):
        refused = client.post(reverse("admin:products_plan_apply", args=[run.pk]), {"all": "1"})
    assert refused.status_code == 403
    assert not JobRun.objects.filter(kind="plan").exists()
    assert set(PlanItem.objects.filter(run=run).values_list("status", flat=True)) == {"pending"}

    # A live run deactivates; operação cannot undo it either.
    RuntimeSettings.objects.filter(pk=1).update(mode=RuntimeSettings.Mode.LIVE)
    call_command("sweep_stock", stdout=io.StringIO())
    live = JobRun.objects.filter(kind="stock").latest("id")
    assert fake_bling.products[pids[0]]["situacao"] == "I"
    writes = len(situation_writes(fake_bling))
    run_page = client.get(reverse("admin:blingsync_jobrun_change", args=[live.pk])).text
    assert 'id="jobrun-undo"' not in run_page
    with django_capture_on_commit_callbacks(execute=True):
        refused = client.post(reverse("admin:products_run_undo", args=[live.pk]))
    assert refused.status_code == 403
    assert not JobRun.objects.filter(kind="undo").exists()
    assert len(situation_writes(fake_bling)) == writes
    assert fake_bling.products[pids[0]]["situacao"] == "I"


def test_the_plan_page_warns_when_counters_were_never_seeded_or_moved(
    fake_bling, bling_connected, role_client
):
    from tests.products.codes_catalog import retailer_catalog

    retailer_catalog(fake_bling)
    call_command("sync_categories", stdout=io.StringIO())
    call_command("sweep_codes", stdout=io.StringIO())
    run = JobRun.objects.filter(kind="codes").latest("id")
    client = role_client("gestao")
    page = client.get(reverse("admin:products_plan", args=[run.pk])).text
    assert "Contadores não semeados" in page
    run_page = client.get(reverse("admin:blingsync_jobrun_change", args=[run.pk])).text
    assert 'id="jobrun-counters-unseeded"' in run_page
    CodeCounter.objects.update_or_create(prefix="MONI", defaults={"last_value": 50})
    page = client.get(reverse("admin:products_plan", args=[run.pk])).text
    assert "O contador mudou desde a simulação" in page


def test_seed_counters_from_the_admin_in_dry_run_mode(
    fake_bling, bling_connected, role_client, django_capture_on_commit_callbacks
):
    from tests.products.codes_catalog import retailer_catalog

    retailer_catalog(fake_bling)
    assert RuntimeSettings.load().mode == RuntimeSettings.Mode.DRY_RUN
    operacao = role_client("operacao")
    url = reverse("admin:products_codecounter_seed")
    assert (
        'id="counters-seed"'
        not in operacao.get(reverse("admin:products_codecounter_changelist")).text
    )
    assert operacao.post(url).status_code == 403
    assert not CodeCounter.objects.exists()

    gestao = role_client("gestao")
    changelist = gestao.get(reverse("admin:products_codecounter_changelist")).text
    assert 'id="counters-seed"' in changelist and 'id="counters-unseeded"' in changelist
    with django_capture_on_commit_callbacks(execute=True):
        gestao.post(url)
    assert CodeCounter.objects.get(prefix="NTB").last_value == 41
    assert not [r for r in fake_bling.requests if r.method in ("PATCH", "POST", "PUT")]
