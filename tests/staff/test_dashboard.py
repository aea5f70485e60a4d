"""The staff dashboard at /dashboard/: staff only, renders with no data and with data."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from blingsync.audit import audit_begin, audit_record
from blingsync.jobrunner import job_run_now
from blingsync.models import AuditLog, BlingConnection, JobRun, RuntimeSettings
from blingsync.operations.dashboard import chart_build, dashboard_daily_changes
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db

URL = "/dashboard/"


def test_it_sends_anonymous_visitors_to_the_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_it_refuses_users_who_are_not_staff(client, django_user_model):
    user = django_user_model.objects.create_user(username="joao", password="x-123-segredo")
    client.force_login(user)
    response = client.get(URL)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_it_renders_on_a_new_install(staff_client):
    response = staff_client.get(URL)
    assert response.status_code == 200
    text = response.text
    assert "Não conectado" in text
    assert 'id="dash-connect"' in text and "/bling/connect/" in text
    assert "Simulação (dry-run)" in text
    assert "nunca executada" in text
    assert "Nenhuma mudança no Bling nos últimos 30 dias." in text
    assert "Nenhum registro de auditoria ainda." in text
    assert "<svg" in text and "<rect" not in text


def test_it_renders_with_data(staff_client, recorded_jobs):
    BlingConnection.objects.create(
        company_name="Loja Teste",
        status=BlingConnection.Status.CONNECTED,
        expires_at=timezone.now() + timedelta(hours=5, minutes=30),
    )
    RuntimeSettings.objects.update_or_create(pk=1, defaults={"mode": "live"})
    run = job_run_now(kind="codes", trigger=JobRun.Trigger.SCHEDULE)
    JobRun.objects.filter(pk=run.pk).update(api_calls=42)
    for days_ago, action in [
        (0, AuditLog.Action.CODE_ASSIGNED),
        (0, AuditLog.Action.CODE_ASSIGNED),
        (3, AuditLog.Action.PRODUCT_DEACTIVATED),
        (10, AuditLog.Action.PRODUCT_REACTIVATED),
        (40, AuditLog.Action.CODE_ASSIGNED),  # outside the 30 days
    ]:
        entry = audit_record(action=action, bling_product_id=5, code="X")
        AuditLog.objects.filter(pk=entry.pk).update(
            created_at=timezone.now() - timedelta(days=days_ago)
        )
    audit_begin(action=AuditLog.Action.PRODUCT_DEACTIVATED, dry_run=True)  # never counted
    WebhookEvent.objects.create(event_id="e1", event_type="stock.updated", signature_valid=True)
    WebhookEvent.objects.create(
        event_id="e2", event_type="product.created", signature_valid=True, status="failed"
    )
    WebhookEvent.objects.create(event_type="", signature_valid=False, http_status=401)
    WebhookEvent.objects.create(event_type="", signature_valid=False, http_status=401)

    response = staff_client.get(URL)
    assert response.status_code == 200
    text = response.text
    assert "Loja Teste" in text and "Conectado" in text
    assert 'id="dash-connect"' not in text
    assert "5 h 29 min" in text or "5 h 30 min" in text
    assert re.search(r'id="dash-mode-value">\s*Ao vivo', text)
    row = re.search(r'<tr id="dash-kind-codes">(.*?)</tr>', text, re.S).group(1)
    assert f"#{run.pk}" in row and "Concluído" in row and "<td>42</td>" in row
    assert re.search(r'id="dash-signature-failures">2<', text)
    assert "Eventos com falha" in text
    # Bars on 3 days: today (2 codes + the one the live run wrote), 3 and 10 days ago;
    # the entry of 40 days ago is out of the window and the dry-run one never counts.
    assert text.count("<rect") == 3
    # SVG numbers use a dot whatever the language (pt-BR would print "12,5").
    assert re.findall(r'<rect x="[0-9.]+" y="[0-9.]+" width="[0-9.]+" height="[0-9.]+"', text)
    assert not re.search(r'<rect[^>]*="[0-9]+,[0-9]', text)
    assert "Códigos atribuídos: <strong>3</strong>" in text
    assert "Produtos inativados: <strong>1</strong>" in text
    assert "Produtos reativados: <strong>1</strong>" in text
    assert f"TEST{run.pk:05d}" in text  # recent audit


def test_it_shows_the_next_scheduled_run_of_each_kind(staff_client):
    from django.core.management import call_command
    from django_q.models import Schedule

    call_command("setup_schedules", stdout=open("/dev/null", "w"))  # noqa: SIM115
    Schedule.objects.filter(name="blingsync:stock").update(repeats=0)  # staff switched it off
    text = staff_client.get(URL).text
    codes = re.search(r'<tr id="dash-kind-codes">(.*?)</tr>', text, re.S).group(1)
    stock = re.search(r'<tr id="dash-kind-stock">(.*?)</tr>', text, re.S).group(1)
    assert "sem agendamento" not in codes
    assert "sem agendamento" in stock


def test_the_daily_series_counts_only_successful_changes_in_the_window():
    audit_record(action=AuditLog.Action.CODE_ASSIGNED, code="A")
    failed = audit_begin(action=AuditLog.Action.CODE_ASSIGNED, dry_run=False, code="B")
    AuditLog.objects.filter(pk=failed.pk).update(outcome=AuditLog.Outcome.FAILED)
    days, per_action = dashboard_daily_changes(days=30)
    assert len(days) == 30 and days[-1] == timezone.localdate()
    assert per_action[AuditLog.Action.CODE_ASSIGNED] == {timezone.localdate(): 1}
    chart = chart_build(days=days, per_action=per_action)
    assert len(chart.bars) == 1
    bar = chart.bars[0]
    assert bar.y + bar.height == chart.plot_bottom
    assert chart.max_value == 1


def test_a_run_now_button_per_kind_posts_to_the_admin(staff_client):
    response = staff_client.get(URL)
    # Applying a plan and undoing a run start from the plan or the run, not from a button.
    assert response.text.count('action="/admin/blingsync/jobrun/run-now/"') == (
        len(JobRun.Kind.values) - 2
    )


def test_the_admin_index_links_to_the_dashboard(staff_client):
    response = staff_client.get("/admin/")
    assert response.status_code == 200
    assert 'href="/dashboard/"' in response.text
    assert "blingsync" in response.text


def test_a_scheduled_kind_without_a_recent_success_is_flagged(
    staff_client, recorded_jobs, bling_connected
):
    from django.core.management import call_command

    call_command("setup_schedules", stdout=open("/dev/null", "w"))  # noqa: SIM115
    old = job_run_now(kind="codes", trigger=JobRun.Trigger.SCHEDULE)  # every 15 min
    JobRun.objects.filter(pk=old.pk).update(finished_at=timezone.now() - timedelta(hours=2))
    job_run_now(kind="orders", trigger=JobRun.Trigger.SCHEDULE)  # just now
    text = staff_client.get(URL).text
    codes = re.search(r'<tr id="dash-kind-codes">(.*?)</tr>', text, re.S).group(1)
    orders = re.search(r'<tr id="dash-kind-orders">(.*?)</tr>', text, re.S).group(1)
    stock = re.search(r'<tr id="dash-kind-stock">(.*?)</tr>', text, re.S).group(1)
    assert "⚠" in codes
    assert "⚠" not in orders
    assert "⚠" not in stock  # never run yet: nothing to compare with
    assert re.search(r'id="dash-queue">[^<]*<strong>0</strong>', text)


def test_it_shows_when_bling_calls_are_suspended_by_the_circuit_breaker(staff_client):
    from blingsync.models import RateLimitBucket

    assert 'id="dash-circuit"' in staff_client.get(URL).text
    assert "Normais" in staff_client.get(URL).text
    until_us = int((timezone.now() + timedelta(minutes=1)).timestamp() * 1_000_000)
    RateLimitBucket.objects.update_or_create(
        key="bling", defaults={"circuit_open_until_us": until_us, "consecutive_failures": 10}
    )
    text = staff_client.get(URL).text
    assert "Bling indisponível" in text
    assert "Os webhooks continuam sendo recebidos" in text
