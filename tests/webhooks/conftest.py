"""Helpers of the webhook tests: signed requests built by the fake Bling."""

from __future__ import annotations

import uuid

import pytest

URL = "/webhooks/bling/"


@pytest.fixture
def post_webhook(client, fake_bling):
    """POST a delivery through Django's test client, signed like Bling signs it.

    `signature`: "valid", "bad", "missing", or a literal header value.
    """

    def post(event: str, data: dict, *, event_id: str | None = None, signature="valid", body=None):
        raw = (
            body
            if body is not None
            else fake_bling.webhook_body(event, data, event_id or str(uuid.uuid4()))
        )
        headers = {}
        if signature == "valid":
            headers["HTTP_X_BLING_SIGNATURE_256"] = fake_bling.sign(raw)
        elif signature == "bad":
            headers["HTTP_X_BLING_SIGNATURE_256"] = fake_bling.sign(raw, secret="wrong")
        elif signature != "missing":
            headers["HTTP_X_BLING_SIGNATURE_256"] = signature
        return client.post(URL, data=raw, content_type="application/json", **headers)

    return post


@pytest.fixture
def deliver(post_webhook, django_capture_on_commit_callbacks):
    """`deliver(event, data)`: POST a signed delivery, run what it queued, return its row."""
    from webhooks.models import WebhookEvent

    def send(event: str, data: dict, **kwargs) -> WebhookEvent:
        with django_capture_on_commit_callbacks(execute=True):
            response = post_webhook(event, data, **kwargs)
        assert response.status_code == 200
        event_row = WebhookEvent.objects.order_by("-pk").first()
        assert event_row is not None
        event_row.refresh_from_db()
        return event_row

    return send


@pytest.fixture
def live(fake_bling, bling_connected):
    """Connected, live, no stock debounce, the sold-out tests' category tree mirrored."""
    from blingsync.models import RuntimeSettings
    from tests.products.soldout_support import mode_live, tree_mirror

    tree = tree_mirror(fake_bling)
    mode_live()
    RuntimeSettings.objects.filter(pk=1).update(stock_debounce_seconds=0)
    return tree
