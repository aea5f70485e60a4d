"""Sending: an SMTP failure is recorded, retried and never fails the job that raised the
alert; messages go out in the recipient's language."""

from __future__ import annotations

import socket
from datetime import timedelta

from django.core import mail
from django.utils import timezone

from blingsync.alerts.models import AlertKind, AlertMessage, AlertPreference, AlertThrottle
from blingsync.bling.token_store import connection_mark_needs_reconnect
from blingsync.connection import connection_get
from blingsync.jobrunner import job_run_now
from blingsync.models import BlingConnection, JobRun
from blingsync.operations.alerts.services import MAX_ATTEMPTS, alert_message_send, alerts_check_all
from tests.alerts.conftest import staff


def _closed_port() -> int:
    """A local port nobody listens on (bound and released: connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _smtp_down(settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = _closed_port()
    settings.EMAIL_TIMEOUT = 2


def _due_now() -> None:
    AlertMessage.objects.exclude(next_attempt_at=None).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def test_an_smtp_failure_is_recorded_and_the_job_goes_on(
    bling_connected, fake_bling, manager, run_after_commit, settings
):
    _smtp_down(settings)
    fake_bling.revoke_refresh_tokens()
    BlingConnection.objects.update(expires_at=timezone.now() - timedelta(minutes=1))

    run = run_after_commit(job_run_now, kind="tokens", trigger=JobRun.Trigger.SCHEDULE)

    assert run.status == JobRun.Status.SKIPPED
    assert "conecte de novo" in run.error  # its own reason, not the mail's
    record = AlertMessage.objects.get()
    assert record.status == AlertMessage.Status.FAILED
    assert record.attempts == 1
    assert "Connection refused" in record.error or "ConnectionRefused" in record.error
    assert record.next_attempt_at > timezone.now()

    # The mail server is back: the periodic check sends the retry, once.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    run_after_commit(alerts_check_all)
    assert mail.outbox == []  # not due yet
    _due_now()
    run_after_commit(alerts_check_all)
    run_after_commit(alerts_check_all)
    assert len(mail.outbox) == 1
    record.refresh_from_db()
    assert (record.status, record.attempts) == (AlertMessage.Status.SENT, 2)


def test_after_the_last_attempt_the_situation_is_reported_again_later(
    bling_connected, manager, run_after_commit, settings
):
    _smtp_down(settings)
    run_after_commit(connection_mark_needs_reconnect, connection=connection_get(), error="x")
    record = AlertMessage.objects.get()
    for _ in range(MAX_ATTEMPTS - 1):
        _due_now()
        assert alert_message_send(message_id=record.pk) == AlertMessage.Status.FAILED
    record.refresh_from_db()
    assert record.attempts == MAX_ATTEMPTS
    assert record.next_attempt_at is None  # given up
    assert alert_message_send(message_id=record.pk) == "not_claimed"

    # An hour later (mail fixed), the same disconnection is reported in a new message.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    AlertThrottle.objects.update(last_sent_at=timezone.now() - timedelta(minutes=61))
    run_after_commit(alerts_check_all)
    assert len(mail.outbox) == 1
    assert AlertMessage.objects.filter(status=AlertMessage.Status.SENT).count() == 1


def test_a_message_whose_task_was_lost_is_sent_by_the_periodic_check(
    bling_connected, manager, settings
):
    # No on-commit execution: the send task is never queued (as if the worker died).
    connection_mark_needs_reconnect(connection=connection_get(), error="x")
    from blingsync.operations.alerts.services import alert_check

    alert_check(kind=AlertKind.NEEDS_RECONNECT)
    record = AlertMessage.objects.get()
    assert record.status == AlertMessage.Status.PENDING
    AlertMessage.objects.update(created_at=timezone.now() - timedelta(minutes=3))
    alerts_check_all()
    record.refresh_from_db()
    assert record.status == AlertMessage.Status.SENT
    assert len(mail.outbox) == 1


def test_each_recipient_reads_it_in_their_language(
    bling_connected, manager, django_user_model, gestao_group, run_after_commit, settings
):
    settings.ALERTS_TO = ["ti@loja.example"]
    english = staff(django_user_model, "ann", email="ann@shop.example", groups=[gestao_group])
    AlertPreference.objects.create(user=english, language="en")

    run_after_commit(connection_mark_needs_reconnect, connection=connection_get(), error="x")

    by_to = {tuple(sorted(m.to)): m for m in mail.outbox}
    assert set(by_to) == {("ann@shop.example",), ("gestora@loja.example", "ti@loja.example")}
    assert "precisa ser refeita" in by_to[("gestora@loja.example", "ti@loja.example")].subject
    english_message = by_to[("ann@shop.example",)]
    assert "reconnected" in english_message.subject.lower()
    assert "Connect to Bling" in english_message.body
    assert sorted(AlertMessage.objects.values_list("language", flat=True)) == ["en", "pt-br"]
