"""The daily summary: opt-in, at the time staff chose, once a day, with yesterday's figures as
the audit log has them."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.core import mail
from django.utils import timezone

from blingsync.alerts.models import AlertKind, AlertMessage, AlertPreference, AlertSettings
from blingsync.audit import audit_begin, audit_complete, audit_record
from blingsync.models import AuditLog, JobRun, RuntimeSettings
from blingsync.operations.alerts.services import alerts_check_all, daily_summary_send_if_due
from products.models import ProductStockState
from tests.alerts.conftest import link_in, site_path, staff

Action = AuditLog.Action


def _local(day, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _audit(action, *, when, ok=True, dry_run=False, product_id=None, code="", after=None):
    entry = audit_begin(
        action=action, dry_run=dry_run, bling_product_id=product_id, code=code, after=after
    )
    if not dry_run:
        audit_complete(entry, ok=ok, error="" if ok else "VALIDATION_ERROR: recusado")
    AuditLog.objects.filter(pk=entry.pk).update(created_at=when, completed_at=when)
    return entry


def _yesterday_in_the_audit(yesterday):
    at = _local(yesterday, 10)
    for i in range(3):
        _audit(Action.CODE_ASSIGNED, when=at, product_id=100 + i, code=f"MEMO0000{i}")
    _audit(Action.CODE_ASSIGNED, when=at, dry_run=True, product_id=110, code="MEMO00010")
    _audit(Action.CODE_ASSIGNED, when=at, ok=False, product_id=111, code="MEMO00011")
    for pid, name in ((201, "Memória DDR4 8GB"), (202, "Teclado ABNT2")):
        ProductStockState.objects.create(bling_product_id=pid, name=name)
        _audit(Action.PRODUCT_DEACTIVATED, when=at, product_id=pid, code=f"P{pid}")
    _audit(Action.PRODUCT_REACTIVATED, when=at, product_id=301, code="P301")
    for pid, rule in ((401, "no_sales"), (402, "manual_balance"), (403, "category_keeps")):
        entry = audit_record(
            action=Action.SOLD_OUT_KEPT, bling_product_id=pid, after={"regra": rule}
        )
        AuditLog.objects.filter(pk=entry.pk).update(created_at=at)
    JobRun.objects.create(
        kind="stock", trigger="schedule", status="failed", finished_at=_local(yesterday, 11)
    )
    # Not yesterday: the day before, and today.
    _audit(Action.CODE_ASSIGNED, when=_local(yesterday - timedelta(days=1), 23, 59), product_id=1)
    _audit(Action.PRODUCT_DEACTIVATED, when=timezone.now(), product_id=2)


def test_the_summary_goes_to_opted_in_users_with_the_figures_of_the_audit(
    manager, operator, django_user_model, gestao_group, run_after_commit, client
):
    RuntimeSettings.objects.update_or_create(pk=1, defaults={"mode": "live"})
    today = timezone.localdate()
    yesterday = today - timedelta(days=1)
    _yesterday_in_the_audit(yesterday)
    AlertPreference.objects.create(user=manager, daily_summary=True)
    AlertPreference.objects.create(user=operator, daily_summary=True)  # no permission
    staff(django_user_model, "outra", email="outra@loja.example", groups=[gestao_group])

    run_after_commit(daily_summary_send_if_due, now=_local(today, 7, 1))

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["gestora@loja.example"]
    assert yesterday.strftime("%d/%m/%Y") in message.subject
    body = message.body
    start = _local(yesterday, 0)
    done = AuditLog.objects.filter(
        created_at__gte=start,
        created_at__lt=start + timedelta(days=1),
        outcome=AuditLog.Outcome.OK,
        dry_run=False,
    )
    assert f"Códigos atribuídos: {done.filter(action=Action.CODE_ASSIGNED).count()}" in body
    assert "Códigos atribuídos: 3" in body
    assert "Produtos inativados: 2" in body
    assert "Memória DDR4 8GB" in body and "Teclado ABNT2" in body
    assert "Produtos reativados: 1" in body
    assert "falta de evidência de venda: 2" in body
    assert "1 alterações no Bling" in body and "1 execuções de tarefas" in body
    assert "1 códigos" in body  # the simulated one
    assert "Modo: ao vivo" in body
    html = message.alternatives[0][0]
    assert "Memória DDR4 8GB" in html and "<table" in html
    record = AlertMessage.objects.get()
    assert (record.kind, record.status) == (AlertKind.DAILY_SUMMARY, AlertMessage.Status.SENT)

    client.force_login(manager)
    assert client.get(site_path(link_in(body))).status_code == 200


def test_it_goes_once_a_day_and_not_before_its_time(manager, run_after_commit):
    AlertPreference.objects.create(user=manager, daily_summary=True)
    AlertSettings.objects.create(summary_time=time(8, 30))
    today = timezone.localdate()

    run_after_commit(daily_summary_send_if_due, now=_local(today, 8, 29))
    assert mail.outbox == []
    run_after_commit(daily_summary_send_if_due, now=_local(today, 8, 30))
    run_after_commit(daily_summary_send_if_due, now=_local(today, 12, 0))
    run_after_commit(daily_summary_send_if_due, now=_local(today, 23, 59))
    assert len(mail.outbox) == 1
    run_after_commit(daily_summary_send_if_due, now=_local(today + timedelta(days=1), 8, 31))
    assert len(mail.outbox) == 2


def test_nobody_opted_in_means_no_summary_and_no_record(manager, run_after_commit):
    run_after_commit(alerts_check_all, now=_local(timezone.localdate(), 9))
    assert mail.outbox == []
    assert not AlertMessage.objects.filter(kind=AlertKind.DAILY_SUMMARY).exists()


def test_it_is_in_english_for_who_asks(manager, run_after_commit):
    AlertPreference.objects.create(user=manager, daily_summary=True, language="en")
    today = timezone.localdate()
    run_after_commit(daily_summary_send_if_due, now=_local(today, 7, 5))
    message = mail.outbox[0]
    assert message.subject.startswith("[blingsync] Summary of")
    assert "Codes assigned: 0" in message.body
    assert "Mode: dry-run (simulation)" in message.body
