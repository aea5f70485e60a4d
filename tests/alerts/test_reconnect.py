"""The "reconnect" alert: raised where the refresh is refused, sent once, throttled, with a
link to "Conectar ao Bling" that works for the staff who receive it."""

from __future__ import annotations

from datetime import timedelta

from django.core import mail
from django.utils import timezone

from blingsync.alerts.models import AlertKind, AlertMessage, AlertThrottle
from blingsync.jobrunner import job_run_now
from blingsync.models import BlingConnection, JobRun
from blingsync.operations.alerts.services import alert_check
from tests.alerts.conftest import link_in, site_path


def _revoke_and_run_tokens_job(fake_bling, run_after_commit) -> JobRun:
    fake_bling.revoke_refresh_tokens()
    fake_bling.expire_access_tokens()
    BlingConnection.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    return run_after_commit(job_run_now, kind="tokens", trigger=JobRun.Trigger.SCHEDULE)


def test_a_refused_refresh_sends_one_reconnect_email(
    bling_connected, fake_bling, manager, operator, run_after_commit
):
    run = _revoke_and_run_tokens_job(fake_bling, run_after_commit)

    assert BlingConnection.objects.get().status == BlingConnection.Status.NEEDS_RECONNECT
    assert run.status == JobRun.Status.SKIPPED  # the job ends as it would without alerts
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["gestora@loja.example"]  # not the operator: no permission
    assert message.from_email == "alertas@loja.example"
    assert "precisa ser refeita" in message.subject
    assert "Loja Teste" in message.body
    html = message.alternatives[0][0]
    assert link_in(message.body) in html
    record = AlertMessage.objects.get()
    assert (record.kind, record.status, record.recipients) == (
        AlertKind.NEEDS_RECONNECT,
        AlertMessage.Status.SENT,
        ["gestora@loja.example"],
    )
    assert record.sent_at is not None


def test_the_link_opens_conectar_ao_bling(
    bling_connected, fake_bling, manager, client, run_after_commit, settings
):
    _revoke_and_run_tokens_job(fake_bling, run_after_commit)
    path = site_path(link_in(mail.outbox[0].body))
    assert path == "/bling/connect/"

    client.force_login(manager)
    page = client.get(path)
    # The connect page says the access was refused and offers the button...
    assert page.status_code == 200
    assert 'id="bling-guide-reconnect"' in page.text and 'id="bling-guide-connect"' in page.text
    response = client.post(path)

    # ...which sends the browser to Bling's authorization page with a state.
    assert response.status_code == 302
    assert response["Location"].startswith(settings.BLING_AUTHORIZE_URL)
    assert "state=" in response["Location"]


def test_it_is_not_sent_twice_for_the_same_disconnection(
    bling_connected, fake_bling, manager, run_after_commit
):
    _revoke_and_run_tokens_job(fake_bling, run_after_commit)
    # Everything else that tries Bling meanwhile, and the periodic check, an hour later too.
    run_after_commit(job_run_now, kind="tokens", trigger=JobRun.Trigger.SCHEDULE)
    run_after_commit(alert_check, kind=AlertKind.NEEDS_RECONNECT)
    AlertThrottle.objects.update(last_sent_at=timezone.now() - timedelta(minutes=61))
    run_after_commit(alert_check, kind=AlertKind.NEEDS_RECONNECT)

    assert len(mail.outbox) == 1
    assert AlertMessage.objects.count() == 1


def test_a_new_disconnection_within_the_hour_waits_for_the_hour(
    bling_connected, fake_bling, manager, run_after_commit
):
    _revoke_and_run_tokens_job(fake_bling, run_after_commit)
    # Staff reconnect; the new connection is refused again 10 minutes later.
    BlingConnection.objects.update(
        status=BlingConnection.Status.NEEDS_RECONNECT,
        last_refresh_at=timezone.now() + timedelta(minutes=10),
    )
    run_after_commit(alert_check, kind=AlertKind.NEEDS_RECONNECT)
    assert len(mail.outbox) == 1

    AlertThrottle.objects.update(last_sent_at=timezone.now() - timedelta(minutes=61))
    run_after_commit(alert_check, kind=AlertKind.NEEDS_RECONNECT)
    assert len(mail.outbox) == 2


def test_without_anyone_allowed_nobody_gets_it_and_it_is_recorded(
    bling_connected, fake_bling, operator, run_after_commit
):
    _revoke_and_run_tokens_job(fake_bling, run_after_commit)

    assert mail.outbox == []
    record = AlertMessage.objects.get()
    assert record.status == AlertMessage.Status.FAILED
    assert record.recipients == []
    assert "destinatário" in record.error


def test_alerts_to_addresses_get_it_too(
    bling_connected, fake_bling, manager, run_after_commit, settings
):
    settings.ALERTS_TO = ["ti@loja.example", "GESTORA@loja.example"]
    _revoke_and_run_tokens_job(fake_bling, run_after_commit)

    assert len(mail.outbox) == 1
    assert sorted(mail.outbox[0].to) == ["gestora@loja.example", "ti@loja.example"]
