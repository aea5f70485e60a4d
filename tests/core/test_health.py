"""GET /health/ answers 200 when healthy and 503 when it is not, with no secrets."""

from __future__ import annotations

import pytest

from blingsync.models import BlingConnection, RuntimeSettings

pytestmark = pytest.mark.django_db

HEALTH_TOKEN = "health-token-for-the-tests-0123456789"


@pytest.fixture(autouse=True)
def _health_token(settings):
    settings.HEALTH_TOKEN = HEALTH_TOKEN


def _detailed(client):
    return client.get("/health/", HTTP_X_HEALTH_TOKEN=HEALTH_TOKEN)


def test_it_is_healthy_on_a_fresh_install(client):
    response = _detailed(client)
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
    response = _detailed(client)
    assert response.status_code == 200
    data = response.json()
    assert data["bling_calls"]["circuit"] == "open"
    assert data["status"].startswith("degraded")
    fake_bling.recover()


def _connected_with_runs(bling_connected):
    from blingsync.models import JobRun

    JobRun.objects.create(kind="codes", trigger="schedule", status="succeeded", changed=3)
    return bling_connected


def test_anonymous_callers_get_status_database_connection_state_and_backlog(
    client, bling_connected
):
    _connected_with_runs(bling_connected)
    response = client.get("/health/")
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"status", "database", "connection", "queue_backlog"}
    assert data["connection"] == {"state": "connected"}
    assert "Loja Teste" not in response.text
    assert "token_expires_in" not in response.text


def test_a_wrong_or_empty_health_token_gets_the_anonymous_report(client, bling_connected, settings):
    assert "company" not in client.get("/health/", HTTP_X_HEALTH_TOKEN="wrong").json()["connection"]
    settings.HEALTH_TOKEN = ""  # not configured: an empty header must not match it
    assert "company" not in client.get("/health/", HTTP_X_HEALTH_TOKEN="").json()["connection"]


def test_staff_get_the_company_token_expiry_and_job_details(
    client, bling_connected, django_user_model
):
    _connected_with_runs(bling_connected)
    viewer = django_user_model.objects.create_user(username="vera", password="x", is_staff=True)
    client.force_login(viewer)
    data = client.get("/health/").json()
    assert data["connection"]["company"] == "Loja Teste"
    assert data["connection"]["token_expires_in"] > 0
    assert data["last_runs"]["codes"]["changed"] == 3
    assert set(data["events"]) == {"pending", "failed", "signature_failures_24h"}


def test_a_caller_with_the_health_token_gets_the_details(client, bling_connected):
    _connected_with_runs(bling_connected)
    data = _detailed(client).json()
    assert data["connection"]["company"] == "Loja Teste"
    assert data["last_runs"]["codes"]["status"] == "succeeded"
    assert data["mode"] == RuntimeSettings.Mode.DRY_RUN
