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
