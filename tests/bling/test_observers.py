"""The client's observer hook: the app's subscriptions are wired at start, and a subscriber
that fails never breaks the Bling call that reported the event."""

from __future__ import annotations

import logging

import pytest

from blingsync.bling import observers
from blingsync.bling.client import api_request
from blingsync.bling.observers import RequestSent, TokenRefreshStarted, observers_notify
from blingsync.jobrunner import bling_request_counted


@pytest.fixture
def failing_subscriber():
    def explode(event: RequestSent) -> None:
        raise RuntimeError("subscriber broke")

    observers.observers_subscribe(RequestSent, explode)
    yield explode
    observers.observers_unsubscribe(RequestSent, explode)


def test_the_job_runner_is_subscribed_when_django_starts():
    assert bling_request_counted in observers._subscribers[RequestSent]


def test_subscribing_twice_calls_the_subscriber_once():
    seen: list[RequestSent] = []
    observers.observers_subscribe(RequestSent, seen.append)
    observers.observers_subscribe(RequestSent, seen.append)
    try:
        observers_notify(RequestSent(method="GET", path="/produtos"))
    finally:
        observers.observers_unsubscribe(RequestSent, seen.append)
    assert seen == [RequestSent(method="GET", path="/produtos")]


def test_a_failing_subscriber_is_logged_and_the_call_goes_on(
    fake_bling, bling_connected, failing_subscriber, caplog
):
    with caplog.at_level(logging.ERROR, logger="blingsync.bling.observers"):
        body = api_request("GET", "/empresas/me/dados-basicos")
    assert body["data"]
    assert "subscriber broke" in caplog.text


def test_a_refresh_whose_intent_cannot_be_audited_never_reaches_bling(fake_bling, bling_connected):
    from datetime import timedelta

    from django.utils import timezone

    from blingsync.bling.tokens import token_refresh_if_due
    from blingsync.models import AuditLog, BlingConnection

    def audit_down(event: TokenRefreshStarted) -> None:
        raise RuntimeError("audit table unavailable")

    BlingConnection.objects.update(expires_at=timezone.now() + timedelta(minutes=1))
    before = BlingConnection.objects.get()
    observers.observers_subscribe(TokenRefreshStarted, audit_down)
    try:
        with pytest.raises(RuntimeError, match="audit table unavailable"):
            token_refresh_if_due(margin=timedelta(minutes=5))
    finally:
        observers.observers_unsubscribe(TokenRefreshStarted, audit_down)
    assert fake_bling.token_calls == []
    after = BlingConnection.objects.get()
    assert after.refresh_token_encrypted == before.refresh_token_encrypted
    refreshed = AuditLog.objects.filter(action=AuditLog.Action.TOKEN_REFRESHED)
    assert not refreshed.filter(outcome=AuditLog.Outcome.OK).exists()


def test_every_write_asks_the_brake_before_it_leaves_and_a_refusal_sends_nothing(
    fake_bling, bling_connected
):
    from blingsync.bling.observers import WriteAboutToSend
    from blingsync.bling_subscribers import write_gate_before_send
    from blingsync.models import RuntimeSettings
    from blingsync.write_gate import WritesStopped

    assert write_gate_before_send in observers._subscribers[WriteAboutToSend]
    pid = fake_bling.add_product("Produto")["id"]
    RuntimeSettings.load()
    RuntimeSettings.objects.filter(pk=1).update(mode=RuntimeSettings.Mode.PAUSED)
    with pytest.raises(WritesStopped):
        api_request("PATCH", f"/produtos/{pid}", json_body={"codigo": "X1"})
    assert not fake_bling.calls(method="PATCH")
    assert fake_bling.products[pid]["codigo"] == ""
    # Reads are not writes: they go on while paused.
    assert api_request("GET", f"/produtos/{pid}")["data"]["id"] == pid
    RuntimeSettings.objects.filter(pk=1).update(mode=RuntimeSettings.Mode.LIVE)
    api_request("PATCH", f"/produtos/{pid}", json_body={"codigo": "X1"})
    assert fake_bling.products[pid]["codigo"] == "X1"
