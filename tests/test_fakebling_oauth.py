"""Fake Bling: OAuth token endpoint, authorize stub, bearer checks, IP block."""

from __future__ import annotations

import time
import urllib.parse

import requests

from tests.fakebling import FakeBling
from tests.fakebling.testing import Api, api_fixture, fake_fixture

fake = fake_fixture()
api = api_fixture()

AUTH = ("test-client-id", "test-client-secret")


def _token(fake: FakeBling, data: dict[str, str], jwt: bool = True, auth=AUTH) -> requests.Response:
    headers = {"enable-jwt": "1"} if jwt else {}
    return requests.post(fake.token_url, data=data, auth=auth, headers=headers, timeout=5)


def test_code_exchanges_once_and_reuse_revokes(fake: FakeBling) -> None:
    code = fake.issue_code()
    first = _token(fake, {"grant_type": "authorization_code", "code": code})
    assert first.status_code == 200
    body = first.json()
    assert set(body) == {"access_token", "expires_in", "token_type", "scope", "refresh_token"}
    # "bearer" in lower case, as 2026 responses write it (bling-v3.md 9b).
    assert body["token_type"] == "bearer" and body["expires_in"] == 21600
    # JWT-looking: three base64url parts, 1.5-2.5 k chars.
    assert body["access_token"].count(".") == 2
    assert 1500 <= len(body["access_token"]) <= 2500
    assert Api(fake, body["access_token"]).get("/empresas/me/dados-basicos").status_code == 200

    again = _token(fake, {"grant_type": "authorization_code", "code": code})
    assert again.status_code == 400
    assert again.json()["error"]["type"] == "VALIDATION_ERROR"
    assert again.json()["error"]["message"] == "Invalid authorization code"
    # Reuse revoked what the code had produced: access and refresh token.
    assert Api(fake, body["access_token"]).get("/empresas/me/dados-basicos").status_code == 401
    refresh = _token(fake, {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]})
    assert refresh.status_code == 400 and refresh.json()["error"]["type"] == "invalid_grant"
    assert [c.status for c in fake.token_calls] == [200, 400, 400]
    assert [c.grant_type for c in fake.token_calls][:2] == ["authorization_code"] * 2


def test_refresh_rotates_and_old_refresh_is_invalid(fake: FakeBling) -> None:
    tokens = fake.issue_tokens()
    new = _token(
        fake, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, jwt=False
    )
    assert new.status_code == 200
    new_body = new.json()
    assert new_body["refresh_token"] != tokens["refresh_token"]
    assert len(new_body["access_token"]) == 40  # opaque without enable-jwt
    reused = _token(fake, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert reused.status_code == 400
    assert reused.json()["error"]["type"] == "invalid_grant"
    unknown = _token(fake, {"grant_type": "refresh_token", "refresh_token": "nope"})
    assert unknown.status_code == 400
    newer = _token(
        fake, {"grant_type": "refresh_token", "refresh_token": new_body["refresh_token"]}
    )
    assert newer.status_code == 200
    assert len(fake.calls(path="/oauth/token")) == 4
    assert fake.calls() == []  # token calls are left out unless asked for


def test_bad_client_and_revoked_refresh(fake: FakeBling) -> None:
    tokens = fake.issue_tokens()
    bad = _token(
        fake,
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=("x", "y"),
    )
    assert bad.status_code == 401 and bad.json()["error"]["type"] == "invalid_client"
    fake.revoke_refresh_tokens()
    gone = _token(fake, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert gone.status_code == 400 and gone.json()["error"]["type"] == "invalid_grant"


def test_bearer_required_and_expiry(fake: FakeBling, api: Api) -> None:
    url = fake.base_url + "/produtos"
    missing = requests.get(url, timeout=5)
    assert missing.status_code == 401
    assert missing.json() == {
        "error": {
            "type": "invalid_token",
            "message": "invalid_token",
            "description": "The access token provided is invalid",
        }
    }
    assert requests.get(url, headers={"Authorization": "Bearer nope"}, timeout=5).status_code == 401
    assert api.get("/produtos").status_code == 200
    fake.expire_access_tokens()
    expired = api.get("/produtos")
    assert expired.status_code == 401
    assert expired.json()["error"]["description"] == "The access token provided has expired"


def test_short_expires_in(fake: FakeBling) -> None:
    fake.expires_in = 1
    tokens = fake.issue_tokens()
    assert tokens["expires_in"] == 1
    client = Api(fake, tokens["access_token"])
    assert client.get("/produtos").status_code == 200
    time.sleep(1.05)
    assert client.get("/produtos").status_code == 401


def test_missing_jwt_header_is_counted(fake: FakeBling) -> None:
    Api(fake, jwt_header=False).get("/produtos")
    Api(fake).get("/produtos")
    assert fake.missing_jwt_header == 1


def test_authorize_redirects_with_code_and_state(fake: FakeBling) -> None:
    resp = requests.get(
        fake.authorize_url,
        params={"response_type": "code", "client_id": fake.client_id, "state": "xyz"},
        allow_redirects=False,
        timeout=5,
    )
    assert resp.status_code == 302
    location = urllib.parse.urlsplit(resp.headers["Location"])
    assert location.geturl().startswith(fake.redirect_uri)
    query = urllib.parse.parse_qs(location.query)
    assert query["state"] == ["xyz"]
    exchanged = _token(fake, {"grant_type": "authorization_code", "code": query["code"][0]})
    assert exchanged.status_code == 200


def test_token_endpoint_ip_block(fake: FakeBling) -> None:
    statuses = [
        _token(fake, {"grant_type": "refresh_token", "refresh_token": "x"}).status_code
        for _ in range(21)
    ]
    assert statuses[:20] == [400] * 20
    assert statuses[20] == 403
    assert fake.ip_blocked
    tokens = fake.issue_tokens()
    assert Api(fake, tokens["access_token"]).get("/produtos").status_code == 403
    fake.reset()
    assert not fake.ip_blocked
