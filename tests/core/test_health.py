"""GET /health/ answers 200 when healthy and 503 when it is not, with no secrets."""

from __future__ import annotations

import pytest

from blingsync.models import BlingConnection, RuntimeSettings

pytestmark = pytest.mark.django_db


def test_it_is_healthy_on_a_fresh_install(client):
    response = client.get("/health/")
    assert response.status_code == 200
    data = response.json()
    assert data["database"] == "ok"
    assert data["status"] == "ok"
    assert data["mode"] == RuntimeSettings.Mode.DRY_RUN
    assert data["connection"]["state"] == "not_connected"
    assert isinstance(data["queue_backlog"], int)


def test_it_answers_503_when_bling_needs_a_reconnect(client):
    BlingConnection.objects.create(
        status=BlingConnection.Status.NEEDS_RECONNECT,
        access_token_encrypted="secret-ciphertext",
        refresh_token_encrypted="secret-ciphertext",
    )
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["connection"]["state"] == "needs_reconnect"
    assert b"secret-ciphertext" not in response.content


def test_it_answers_503_when_the_database_is_down(client, monkeypatch):
    from django.db.backends.base.base import BaseDatabaseWrapper

    def broken_cursor(self, *args, **kwargs):
        raise RuntimeError("database is down")

    monkeypatch.setattr(BaseDatabaseWrapper, "cursor", broken_cursor)
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json() == {"database": "error"}


def test_it_reports_an_open_circuit_breaker_but_stays_in_rotation(
    client, bling_connected, fake_bling, settings
):
    """Bling failing opens the breaker: /health/ says so (200: webhooks are still received)."""
    from blingsync.bling import catalog
    from blingsync.bling.errors import BlingUnavailable

    settings.BLING_CIRCUIT_FAILURES = 2
    settings.BLING_RETRY_ATTEMPTS = 1
    settings.BLING_RETRY_BASE_SECONDS = 0.01
    fake_bling.outage(status=503)
    for _ in range(3):
        with pytest.raises(BlingUnavailable):
            catalog.product_get(product_id=1)
    response = client.get("/health/")
    assert response.status_code == 200
    data = response.json()
    assert data["bling_calls"]["circuit"] == "open"
    assert data["status"].startswith("degraded")
    fake_bling.recover()
