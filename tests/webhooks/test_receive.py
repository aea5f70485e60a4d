"""POST /webhooks/bling/: signature, validation, size, deduplication, storing and queueing."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection

from blingsync.models import RuntimeSettings
from webhooks.inbox import webhook_receive
from webhooks.models import WebhookEvent
from webhooks.selectors import signature_failures_count

from .conftest import URL

pytestmark = pytest.mark.django_db

# A handled event whose processing needs no Bling call (a deleted product is only noted).
QUIET = "product.deleted"


def test_it_rejects_a_bad_signature(post_webhook):
    response = post_webhook("product.updated", {"id": 1}, event_id="evt-1", signature="bad")
    assert response.status_code == 401
    event = WebhookEvent.objects.get()
    assert event.signature_valid is False
    assert event.status == WebhookEvent.Status.REJECTED
    assert event.event_id is None  # a forged copy never blocks the real event
    assert event.http_status == 401
    assert '"evt-1"' in event.body
    assert signature_failures_count(hours=24) == 1


def test_it_rejects_a_missing_signature(post_webhook):
    response = post_webhook("product.updated", {"id": 1}, signature="missing")
    assert response.status_code == 401
    assert WebhookEvent.objects.get().last_error == "assinatura ausente"


def test_it_rejects_a_malformed_signature_header(post_webhook):
    assert post_webhook("product.updated", {"id": 1}, signature="md5=abc").status_code == 401
    assert post_webhook("product.updated", {"id": 1}, signature="sha256=zz").status_code == 401


def test_a_forged_copy_does_not_block_the_real_event(
    post_webhook, django_capture_on_commit_callbacks
):
    assert post_webhook(QUIET, {"id": 1}, event_id="evt-x", signature="bad").status_code == 401
    with django_capture_on_commit_callbacks(execute=True):
        assert post_webhook(QUIET, {"id": 1}, event_id="evt-x").status_code == 200
    real = WebhookEvent.objects.get(event_id="evt-x")
    assert real.signature_valid is True
    assert real.status == WebhookEvent.Status.PROCESSED


def test_it_rejects_a_signed_body_that_is_not_json(post_webhook):
    response = post_webhook("", {}, body=b"{not json")
    assert response.status_code == 400
    event = WebhookEvent.objects.get()
    assert event.signature_valid is True
    assert event.status == WebhookEvent.Status.REJECTED
    assert event.body == "{not json"
    assert "JSON" in event.last_error


def test_it_refuses_a_huge_body_with_413(post_webhook, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 1000
    big = {"id": 1, "nome": "x" * 5000}
    response = post_webhook("product.updated", big)
    assert response.status_code == 413
    event = WebhookEvent.objects.get()
    assert event.http_status == 413
    assert 0 < len(event.body) <= 512  # only its first bytes (never read past the limit)
    assert event.body_size == 1001 and len(event.body_sha256) == 64


def test_it_stores_a_signed_event_as_pending_and_queues_it(
    post_webhook, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post_webhook(
            "stock.updated", {"produto": {"id": 77}, "saldoVirtualTotal": 0}, event_id="evt-2"
        )
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert len(callbacks) == 1  # processing is queued after commit, not run in the request
    event = WebhookEvent.objects.get()
    assert event.event_id == "evt-2"
    assert event.event_type == "stock.updated"
    assert event.resource_id == 77
    assert event.status == WebhookEvent.Status.PENDING
    assert event.signature_valid is True
    assert event.company_id
    assert event.event_date is not None
    assert event.remote_addr == "127.0.0.1"
    assert event.headers["X-Bling-Signature-256"].startswith("sha256=")


def test_it_does_not_store_credentials_from_the_headers(fake_bling, client):
    raw = fake_bling.webhook_body(QUIET, {"id": 1})
    client.post(
        URL,
        data=raw,
        content_type="application/json",
        HTTP_X_BLING_SIGNATURE_256=fake_bling.sign(raw),
        HTTP_AUTHORIZATION="Bearer secret-token",
        HTTP_COOKIE="sessionid=secret",
    )
    headers = WebhookEvent.objects.get().headers
    assert "Authorization" not in headers and "Cookie" not in headers
    assert "secret" not in str(headers)


def test_it_ignores_a_duplicate(post_webhook, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = post_webhook(QUIET, {"id": 5}, event_id="evt-dup")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        second = post_webhook(QUIET, {"id": 5}, event_id="evt-dup")
    assert first.status_code == second.status_code == 200
    assert callbacks == []  # nothing queued for the copy
    event = WebhookEvent.objects.get()
    assert event.attempts == 1
    assert event.status == WebhookEvent.Status.PROCESSED


def test_it_stores_without_processing_when_paused(post_webhook, django_capture_on_commit_callbacks):
    settings_row = RuntimeSettings.load()
    settings_row.mode = RuntimeSettings.Mode.PAUSED
    settings_row.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert post_webhook(QUIET, {"id": 5}).status_code == 200
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.PENDING
    assert event.attempts == 0


def test_it_only_accepts_post(client):
    assert client.get(URL).status_code == 405


def test_it_refuses_everything_when_no_secret_is_configured(post_webhook, settings):
    settings.BLING_CLIENT_SECRET = ""
    assert post_webhook(QUIET, {"id": 1}).status_code == 401


def test_a_body_with_nul_bytes_is_recorded(post_webhook):
    assert post_webhook("", {}, body=b'{"a": "\x00\xff"}', signature="bad").status_code == 401
    assert "\x00" not in WebhookEvent.objects.get().body


@pytest.mark.django_db(transaction=True)
def test_it_answers_over_real_http(live_server, fake_bling):
    status, body, event_id = fake_bling.send_webhook(live_server.url + URL, QUIET, {"id": 9})
    assert status == 200
    event = WebhookEvent.objects.get(event_id=event_id)
    assert event.status == WebhookEvent.Status.PROCESSED  # queued after commit, then processed
    status, _body, _ = fake_bling.send_webhook(
        live_server.url + URL, QUIET, {"id": 9}, signature="bad"
    )
    assert status == 401


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_copies_at_the_same_instant_make_one_event_processed_once(fake_bling):
    raw = fake_bling.webhook_body(QUIET, {"id": 3}, event_id=str(uuid.uuid4()))
    headers = {"X-Bling-Signature-256": fake_bling.sign(raw)}
    barrier = threading.Barrier(20)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def deliver():
        try:
            barrier.wait()
            status, _event = webhook_receive(body=raw, headers=headers, remote_addr="127.0.0.1")
            statuses.append(status)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert statuses == [200] * 20
    event = WebhookEvent.objects.get()
    assert event.attempts == 1
    assert event.status == WebhookEvent.Status.PROCESSED


def test_with_the_orm_broker_the_task_is_written_with_the_event(post_webhook, monkeypatch):
    from django_q.conf import Conf
    from django_q.models import OrmQ

    monkeypatch.setattr(Conf, "SYNC", False)  # a real cluster would pick the row up
    assert post_webhook(QUIET, {"id": 1}, event_id="evt-q").status_code == 200
    assert post_webhook(QUIET, {"id": 1}, event_id="evt-q").status_code == 200
    assert OrmQ.objects.count() == 1  # one task for the event, none for its copy
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.PENDING


def test_an_odd_remote_address_does_not_fail_the_delivery(fake_bling):
    raw = fake_bling.webhook_body(QUIET, {"id": 1})
    headers = {"X-Bling-Signature-256": fake_bling.sign(raw)}
    status, event = webhook_receive(body=raw, headers=headers, remote_addr="unix:/run/g.sock")
    assert status == 200
    assert event.remote_addr is None
