"""Connecting from the admin: /bling/connect/ -> Bling's authorize page -> /bling/callback/."""

from __future__ import annotations

import urllib.parse

import requests

from blingsync.models import AuditLog, BlingConnection


def _start(client) -> dict[str, str]:
    response = client.post("/bling/connect/")
    assert response.status_code == 302
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(response["Location"]).query))


def _authorize_at_fake(fake_bling, params: dict[str, str]) -> str:
    """Follow Bling's (fake) authorize page: it redirects back with code and state."""
    answer = requests.get(fake_bling.authorize_url, params=params, allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    callback = urllib.parse.urlsplit(answer.headers["Location"])
    assert callback.path == "/bling/callback/"
    return f"{callback.path}?{callback.query}"


def test_connect_redirects_to_bling_with_a_random_state(fake_bling, admin_client):
    response = admin_client.post("/bling/connect/")
    location = response["Location"]
    assert location.startswith(fake_bling.authorize_url + "?")
    params = _start(admin_client)
    assert params["response_type"] == "code"
    assert params["client_id"] == fake_bling.client_id
    assert params["redirect_uri"] == fake_bling.redirect_uri
    assert len(params["state"]) >= 32
    assert params["state"] == admin_client.session["bling_oauth_state"]
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["state"] != [
        params["state"]
    ]  # a new state per attempt


def test_the_callback_with_the_right_state_connects(fake_bling, admin_client):
    callback = _authorize_at_fake(fake_bling, _start(admin_client))
    response = admin_client.get(callback)
    assert response.status_code == 200
    assert "Conectado ao Bling" in response.content.decode()
    conn = BlingConnection.objects.get()
    assert conn.status == BlingConnection.Status.CONNECTED
    assert conn.company_id == fake_bling.company_id
    assert conn.company_name == "Loja Teste"
    assert [c.grant_type for c in fake_bling.token_calls] == ["authorization_code"]
    entry = AuditLog.objects.get(action=AuditLog.Action.CONNECTED)
    assert entry.outcome == AuditLog.Outcome.OK
    assert entry.actor == "admin"


def test_reloading_the_callback_never_exchanges_the_code_again(fake_bling, admin_client):
    callback = _authorize_at_fake(fake_bling, _start(admin_client))
    assert admin_client.get(callback).status_code == 200
    reloaded = admin_client.get(callback)
    assert reloaded.status_code == 200
    assert "já foi processada" in reloaded.content.decode()
    assert len(fake_bling.token_calls) == 1
    assert BlingConnection.objects.get().status == BlingConnection.Status.CONNECTED


def test_a_used_code_is_not_sent_again_even_from_a_new_attempt(fake_bling, admin_client):
    callback = _authorize_at_fake(fake_bling, _start(admin_client))
    admin_client.get(callback)
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(callback).query)["code"][0]
    state = _start(admin_client)["state"]
    response = admin_client.get("/bling/callback/", {"code": code, "state": state})
    assert response.status_code == 400
    assert len(fake_bling.token_calls) == 1


def test_a_wrong_state_is_refused_without_exchanging(fake_bling, admin_client):
    _start(admin_client)
    code = fake_bling.issue_code()
    response = admin_client.get("/bling/callback/", {"code": code, "state": "forged"})
    assert response.status_code == 400
    assert "state" in response.content.decode()
    assert fake_bling.token_calls == []
    assert not BlingConnection.objects.filter(status=BlingConnection.Status.CONNECTED).exists()


def test_a_callback_without_a_started_attempt_is_refused(fake_bling, admin_client):
    response = admin_client.get("/bling/callback/", {"code": fake_bling.issue_code(), "state": "x"})
    assert response.status_code == 400
    assert fake_bling.token_calls == []


def test_blings_error_on_the_redirect_is_shown(fake_bling, admin_client):
    state = _start(admin_client)["state"]
    response = admin_client.get(
        "/bling/callback/",
        {"error": "access_denied", "error_description": "negado", "state": state},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "A autorização foi negada no Bling." in body
    assert "access_denied" in body
    assert fake_bling.token_calls == []


def test_a_refused_code_shows_a_clear_error(fake_bling, admin_client):
    state = _start(admin_client)["state"]
    response = admin_client.get("/bling/callback/", {"code": "expired-code", "state": state})
    assert response.status_code == 400
    assert "O Bling recusou o código de autorização" in response.content.decode()
    assert BlingConnection.objects.get().status == BlingConnection.Status.NOT_CONNECTED
    entry = AuditLog.objects.get(action=AuditLog.Action.CONNECTED)
    assert entry.outcome == AuditLog.Outcome.FAILED


def test_connect_requires_staff(fake_bling, client):
    response = client.get("/bling/connect/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    response = client.get("/bling/callback/", {"code": "x", "state": "y"})
    assert response.status_code == 302
    assert fake_bling.token_calls == []
