"""The other alerts: each fires once where (or when) its fact happens, is throttled, and links
to the page where staff act on it."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from blingsync.alerts.models import AlertKind, AlertMessage, AlertThrottle
from blingsync.audit import audit_begin, audit_complete
from blingsync.bling.ratelimit import BLING_TZ
from blingsync.models import AuditLog, JobRun, RateLimitBucket, RuntimeSettings
from blingsync.operations.alerts.services import alerts_check_all
from tests.alerts.conftest import link_in, site_path
from tests.fakebling import webhooks as fake_webhooks
from webhooks.models import InboxClaim, WebhookEvent
from webhooks.processing import event_process

URL = "/webhooks/bling/"


def _post(client, fake_bling, *, signature: str = "valid", company: str | None = None):
    body = fake_webhooks.body(
        company or fake_bling.company_id, "product.updated", {"id": 123}, str(uuid.uuid4()), None
    )
    secret = fake_bling.client_secret if signature == "valid" else "wrong-secret"
    return client.post(
        URL,
        data=body,
        content_type="application/json",
        HTTP_X_BLING_SIGNATURE_256=fake_webhooks.sign(body, secret),
    )


def _an_hour_passes() -> None:
    """Move everything recorded 61 minutes into the past."""
    back = timedelta(minutes=61)
    AlertThrottle.objects.update(last_sent_at=F("last_sent_at") - back)
    WebhookEvent.objects.update(received_at=F("received_at") - back)
    WebhookEvent.objects.exclude(claimed_at=None).update(claimed_at=F("claimed_at") - back)
    AuditLog.objects.exclude(completed_at=None).update(completed_at=F("completed_at") - back)


def _follow(client, user, message) -> str:
    path = site_path(link_in(message.body))
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.content.decode()


def _kinds_sent() -> list[str]:
    return list(AlertMessage.objects.order_by("pk").values_list("kind", flat=True))


def test_the_tenth_bad_signature_in_an_hour_raises_the_alert(
    fake_bling, manager, operator, client, run_after_commit
):
    for _ in range(9):
        assert run_after_commit(_post, client, fake_bling, signature="bad").status_code == 401
    assert mail.outbox == []

    # The check is queued at most once a minute (the first refusal's ran): a minute later,
    # the next refusal queues it again and it finds ten.
    InboxClaim.objects.update(claimed_at=timezone.now() - timedelta(seconds=61))
    assert run_after_commit(_post, client, fake_bling, signature="bad").status_code == 401
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["gestora@loja.example"]
    assert "10" in mail.outbox[0].subject

    for _ in range(5):  # the probe goes on: no second e-mail within the hour
        run_after_commit(_post, client, fake_bling, signature="bad")
    run_after_commit(alerts_check_all)
    assert len(mail.outbox) == 1
    assert _kinds_sent() == [AlertKind.SIGNATURE_FAILURES]

    page = _follow(client, manager, mail.outbox[0])
    assert "assinatura inválida" in page or "401" in page


def test_ten_bad_signatures_within_a_minute_are_raised_by_the_periodic_check(
    fake_bling, manager, client, run_after_commit
):
    for _ in range(10):  # one alert check queued (the first refusal's): it found one
        run_after_commit(_post, client, fake_bling, signature="bad")
    assert mail.outbox == []

    run_after_commit(alerts_check_all)  # the periodic check is the net

    assert len(mail.outbox) == 1 and "10" in mail.outbox[0].subject


def test_signature_failures_spread_over_more_than_an_hour_raise_nothing(
    fake_bling, manager, client, run_after_commit
):
    for _ in range(9):
        run_after_commit(_post, client, fake_bling, signature="bad")
    WebhookEvent.objects.update(received_at=timezone.now() - timedelta(minutes=70))
    run_after_commit(_post, client, fake_bling, signature="bad")
    run_after_commit(alerts_check_all)
    assert mail.outbox == []


def test_events_of_another_company_raise_the_alert_once(
    bling_connected, fake_bling, manager, client, run_after_commit
):
    RuntimeSettings.objects.update_or_create(pk=1, defaults={"mode": "paused"})
    assert run_after_commit(_post, client, fake_bling, company="outra-empresa").status_code == 200
    run_after_commit(_post, client, fake_bling)  # our own company's event: not counted
    run_after_commit(alerts_check_all)
    assert _kinds_sent() == [AlertKind.OTHER_COMPANY]
    assert "1 evento" in mail.outbox[0].body

    # Two more within the hour: nothing yet; an hour later, only these new ones are counted.
    run_after_commit(_post, client, fake_bling, company="outra-empresa")
    run_after_commit(_post, client, fake_bling, company="outra-empresa")
    run_after_commit(alerts_check_all)
    assert len(mail.outbox) == 1
    _an_hour_passes()
    run_after_commit(alerts_check_all)
    assert len(mail.outbox) == 2
    assert "2 eventos" in mail.outbox[1].body
    _an_hour_passes()  # and nothing new since
    run_after_commit(alerts_check_all)
    assert len(mail.outbox) == 2
    _follow(client, manager, mail.outbox[0])


def test_a_kind_without_success_for_three_intervals_raises_the_alert(
    manager, client, run_after_commit
):
    call_command("setup_schedules", stdout=open("/dev/null", "w"))  # noqa: SIM115
    # codes runs every 15 minutes: the last success 50 minutes ago is three intervals old.
    ok = JobRun.objects.create(kind="codes", trigger="schedule", status="succeeded")
    JobRun.objects.filter(pk=ok.pk).update(finished_at=timezone.now() - timedelta(minutes=50))
    JobRun.objects.create(
        kind="codes",
        trigger="schedule",
        status="failed",
        finished_at=timezone.now(),
        error="BlingUnavailable: o Bling não respondeu",
    )
    # stock (every 30 minutes) succeeded 20 minutes ago: fine.
    fine = JobRun.objects.create(kind="stock", trigger="schedule", status="succeeded")
    JobRun.objects.filter(pk=fine.pk).update(finished_at=timezone.now() - timedelta(minutes=20))

    run_after_commit(alerts_check_all)
    assert _kinds_sent() == [AlertKind.SCHEDULE_OVERDUE]
    body = mail.outbox[0].body
    assert "códigos" in body and "o Bling não respondeu" in body
    assert "estoque esgotado" not in body

    # Still failing an hour later: the same situation is not reported again.
    JobRun.objects.create(kind="codes", trigger="schedule", status="failed")
    _an_hour_passes()
    run_after_commit(alerts_check_all)
    assert len(mail.outbox) == 1

    page = _follow(client, manager, mail.outbox[0])
    assert "códigos" in page.lower()


def test_an_event_failing_for_good_raises_the_alert_at_once(
    bling_connected, fake_bling, manager, client, run_after_commit, settings
):
    settings.BLING_RETRY_ATTEMPTS = 1
    RuntimeSettings.objects.update_or_create(pk=1, defaults={"mode": "live"})
    body = fake_webhooks.body(
        fake_bling.company_id, "product.updated", {"id": 999}, str(uuid.uuid4()), None
    )
    event = WebhookEvent.objects.create(
        event_id=str(uuid.uuid4()),
        event_type="product.updated",
        company_id=fake_bling.company_id,
        resource_id=999,
        body=body.decode(),
        signature_valid=True,
        attempts=4,  # the fifth attempt is the last
    )
    fake_bling.outage(status=500)
    try:
        outcome = run_after_commit(event_process, event_id=event.pk)
    finally:
        fake_bling.recover()

    assert outcome == "failed"
    assert _kinds_sent() == [AlertKind.EVENTS_FAILED]
    assert "1 evento falhou" in mail.outbox[0].body
    run_after_commit(alerts_check_all)
    assert len(mail.outbox) == 1
    page = _follow(client, manager, mail.outbox[0])
    assert "product.updated" in page


def test_a_failed_write_raises_the_alert_but_a_simulation_does_not(
    manager, client, run_after_commit
):
    def write(ok: bool, dry_run: bool = False):
        entry = audit_begin(
            action=AuditLog.Action.PRODUCT_DEACTIVATED,
            dry_run=dry_run,
            bling_product_id=77,
            code="MEMO00077",
        )
        if not dry_run:
            audit_complete(entry, ok=ok, error="" if ok else "VALIDATION_ERROR: situação inválida")

    run_after_commit(write, True)
    run_after_commit(write, False, dry_run=True)
    entry = audit_begin(action=AuditLog.Action.TOKEN_REFRESHED, dry_run=False)
    run_after_commit(audit_complete, entry, ok=False, error="invalid_grant")
    assert mail.outbox == []

    run_after_commit(write, False)
    assert _kinds_sent() == [AlertKind.WRITES_FAILED]
    assert "situação inválida" in mail.outbox[0].body
    run_after_commit(write, False)
    assert len(mail.outbox) == 1

    page = _follow(client, manager, mail.outbox[0])
    assert "MEMO00077" in page


@pytest.mark.parametrize(("calls", "alerted"), [(95_999, False), (96_000, True)])
def test_the_call_budget_alert_fires_past_80_percent_once_a_day(
    manager, client, run_after_commit, settings, calls, alerted
):
    settings.BLING_RATE_PER_DAY = 120_000
    RateLimitBucket.objects.create(
        key="bling", day=timezone.now().astimezone(BLING_TZ).date(), day_calls=calls
    )
    run_after_commit(alerts_check_all)
    assert len(mail.outbox) == int(alerted)
    if alerted:
        assert "80%" in mail.outbox[0].subject
        _an_hour_passes()
        run_after_commit(alerts_check_all)
        assert len(mail.outbox) == 1  # same day
        _follow(client, manager, mail.outbox[0])


def test_inactive_users_and_users_without_an_address_get_nothing(
    bling_connected, fake_bling, django_user_model, gestao_group, run_after_commit
):
    from tests.alerts.conftest import staff

    gone = staff(django_user_model, "saiu", email="saiu@loja.example", groups=[gestao_group])
    gone.is_active = False
    gone.save()
    staff(django_user_model, "semmail", email="", groups=[gestao_group])
    staff(
        django_user_model,
        "direta",
        email="direta@loja.example",
        perms=[("alerts", "receive_alerts")],
    )
    fake_bling.revoke_refresh_tokens()
    from blingsync.bling.token_store import connection_mark_needs_reconnect
    from blingsync.connection import connection_get

    run_after_commit(connection_mark_needs_reconnect, connection=connection_get(), error="x")
    assert [m.to for m in mail.outbox] == [["direta@loja.example"]]
