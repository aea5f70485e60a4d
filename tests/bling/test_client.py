"""The Bling HTTP client against the fake: headers, errors, retries, refresh on 401."""

from __future__ import annotations

import pytest

from blingsync.bling.client import api_request
from blingsync.bling.errors import (
    BlingAuthError,
    BlingCircuitOpen,
    BlingNotConnected,
    BlingNotFound,
    BlingRateLimited,
    BlingUnavailable,
    BlingValidationError,
)
from blingsync.jobrunner import JobContext, _current_context
from blingsync.models import AuditLog, BlingConnection, JobRun


def test_it_sends_the_bearer_token_and_enable_jwt(fake_bling, bling_connected):
    api_request("GET", "/empresas/me/dados-basicos")
    (call,) = fake_bling.calls(path="/empresas/me/dados-basicos")
    assert call.headers["authorization"].startswith("Bearer ")
    assert call.headers["enable-jwt"] == "1"
    assert call.status == 200
    assert fake_bling.missing_jwt_header == 0


def test_it_parses_a_validation_error_with_its_field_messages(fake_bling, bling_connected):
    pid = fake_bling.add_product("Caderno")["id"]
    with pytest.raises(BlingValidationError) as caught:
        api_request("PATCH", f"/produtos/{pid}", json_body={"situacao": "X", "naoExiste": 1})
    err = caught.value
    assert err.status == 400
    assert err.error_type == "VALIDATION_ERROR"
    elements = {f.element for f in err.fields}
    assert {"situacao", "naoExiste"} <= elements
    assert all(f.message for f in err.fields)
    assert "situacao" in str(err)


def test_it_raises_not_found_for_a_missing_product(fake_bling, bling_connected):
    with pytest.raises(BlingNotFound) as caught:
        api_request("GET", "/produtos/999")
    assert caught.value.error_type == "RESOURCE_NOT_FOUND"


def test_it_raises_not_found_for_a_path_bling_does_not_have(fake_bling, bling_connected):
    with pytest.raises(BlingNotFound):
        api_request("GET", "/estoques", params={"idProduto": 1})


def test_it_retries_a_5xx_burst_and_succeeds(fake_bling, bling_connected):
    fake_bling.fail_next(3, status=503)
    body = api_request("GET", "/empresas/me/dados-basicos")
    assert body["data"]["id"] == fake_bling.company_id
    statuses = [c.status for c in fake_bling.calls(path="/empresas/me/dados-basicos")]
    assert statuses == [503, 503, 503, 200]


def test_it_gives_up_after_the_bounded_retries(fake_bling, bling_connected, settings):
    settings.BLING_RETRY_ATTEMPTS = 2
    fake_bling.outage(500)
    with pytest.raises(BlingUnavailable) as caught:
        api_request("GET", "/empresas/me/dados-basicos")
    assert caught.value.status == 500
    assert len(fake_bling.calls(path="/empresas/me/dados-basicos")) == 3


def test_it_does_not_retry_a_4xx(fake_bling, bling_connected):
    fake_bling.fail_next(1, status=400)
    with pytest.raises(BlingValidationError):
        api_request("GET", "/empresas/me/dados-basicos")
    assert len(fake_bling.calls(path="/empresas/me/dados-basicos")) == 1


def test_it_does_not_retry_a_post_after_a_5xx_unless_idempotent(fake_bling, bling_connected):
    pid = fake_bling.add_product("Caderno")["id"]
    fake_bling.fail_next(1, status=500)
    with pytest.raises(BlingUnavailable):
        api_request(
            "POST", "/produtos/situacoes", json_body={"idsProdutos": [pid], "situacao": "I"}
        )
    assert fake_bling.products[pid]["situacao"] == "A"
    fake_bling.fail_next(1, status=500)
    api_request(
        "POST",
        "/produtos/situacoes",
        json_body={"idsProdutos": [pid], "situacao": "I"},
        idempotent=True,
    )
    assert fake_bling.products[pid]["situacao"] == "I"


def test_it_opens_the_circuit_after_repeated_failures(fake_bling, bling_connected, settings):
    settings.BLING_CIRCUIT_FAILURES = 3
    settings.BLING_RETRY_ATTEMPTS = 5
    fake_bling.outage(502)
    with pytest.raises(BlingUnavailable):
        api_request("GET", "/empresas/me/dados-basicos")
    sent = len(fake_bling.calls(path="/empresas/me/dados-basicos"))
    assert sent == 3
    fake_bling.recover()
    with pytest.raises(BlingCircuitOpen):
        api_request("GET", "/empresas/me/dados-basicos")
    assert len(fake_bling.calls(path="/empresas/me/dados-basicos")) == sent


def test_it_stops_on_the_daily_limit(fake_bling, bling_connected):
    fake_bling.daily_limit = 0
    with pytest.raises(BlingRateLimited) as caught:
        api_request("GET", "/empresas/me/dados-basicos")
    assert caught.value.period == "day"
    fake_bling.daily_limit = None
    # Every process now stops until tomorrow, without calling Bling.
    with pytest.raises(BlingRateLimited):
        api_request("GET", "/empresas/me/dados-basicos")
    assert len(fake_bling.calls(path="/empresas/me/dados-basicos")) == 1


def test_it_waits_and_retries_a_429_per_second(fake_bling, bling_connected):
    fake_bling.fail_next(1, status=429)
    body = api_request("GET", "/empresas/me/dados-basicos")
    assert body["data"]["id"] == fake_bling.company_id
    statuses = [c.status for c in fake_bling.calls(path="/empresas/me/dados-basicos")]
    assert statuses == [429, 200]


def test_it_refreshes_once_on_a_401_and_retries(fake_bling, bling_connected):
    old_refresh = bling_connected.refresh_token_encrypted
    fake_bling.expire_access_tokens()
    body = api_request("GET", "/empresas/me/dados-basicos")
    assert body["data"]["id"] == fake_bling.company_id
    assert [c.grant_type for c in fake_bling.token_calls] == ["refresh_token"]
    statuses = [c.status for c in fake_bling.calls(path="/empresas/me/dados-basicos")]
    assert statuses == [401, 200]
    conn = BlingConnection.objects.get()
    assert conn.refresh_token_encrypted != old_refresh
    assert conn.last_refresh_ok is True
    entry = AuditLog.objects.get(action=AuditLog.Action.TOKEN_REFRESHED)
    assert entry.outcome == AuditLog.Outcome.OK
    assert "token" not in str(entry.after).replace("expires", "")


def test_a_second_401_after_the_refresh_raises_auth_error(fake_bling, bling_connected):
    fake_bling.fail_next(2, status=401)
    with pytest.raises(BlingAuthError):
        api_request("GET", "/empresas/me/dados-basicos")
    assert len(fake_bling.token_calls) == 1


def test_it_refuses_to_call_when_not_connected(fake_bling, db):
    with pytest.raises(BlingNotConnected):
        api_request("GET", "/empresas/me/dados-basicos")
    assert fake_bling.calls() == []


def test_every_request_is_counted_on_the_current_run(fake_bling, bling_connected):
    run = JobRun.objects.create(kind=JobRun.Kind.values[0], trigger=JobRun.Trigger.values[0])
    ctx = JobContext(run=run, dry_run=False, since=None, limit=None, progress=lambda *a: None)
    token = _current_context.set(ctx)
    try:
        fake_bling.fail_next(1, status=500)
        api_request("GET", "/empresas/me/dados-basicos")
    finally:
        _current_context.reset(token)
    ctx.flush()
    run.refresh_from_db()
    assert run.api_calls == 2
