"""OAuth 2.0 of the fake: authorization codes, token endpoint, authorize redirect stub.

Behaviour (bling-v3.md section 1):
- codes are single-use; reusing one answers 400 VALIDATION_ERROR "Invalid authorization code"
  and revokes every token descended from that code (Bling revokes the user's access);
- refresh tokens rotate: each refresh returns a new pair and kills the old refresh token
  (community knowledge, UNCONFIRMED officially); an unknown/used one answers 400 invalid_grant;
- ``enable-jwt: 1`` yields JWT-looking tokens (~2,000 chars), otherwise 40-hex opaque tokens;
- more than 20 token calls within 60 s blocks the "IP" (403) until ``reset()``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import ApiError, envelope, ip_blocked
from .state import TokenCall

if TYPE_CHECKING:
    from .fake import FakeBling

log = logging.getLogger(__name__)

SCOPE = "98308 98309 98310 318257570 318257583 5990556 6631498"
IP_BLOCK_CALLS = 20
IP_BLOCK_WINDOW = 60.0


@dataclass
class AccessToken:
    family: str  # the authorization code (or issue_tokens call) the token descends from
    expires_at: float
    revoked: bool = False
    expired: bool = False  # forced by expire_access_tokens()


@dataclass
class RefreshToken:
    family: str
    used: bool = False
    revoked: bool = False


@dataclass
class TokenStore:
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    access: dict[str, AccessToken] = field(default_factory=dict)
    refresh: dict[str, RefreshToken] = field(default_factory=dict)

    def revoke_family(self, family: str) -> None:
        for tok in self.access.values():
            if tok.family == family:
                tok.revoked = True
        for rtok in self.refresh.values():
            if rtok.family == family:
                rtok.revoked = True


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _jwt(secret: str, kind: str, expires_in: int) -> str:
    """A JWT-shaped token; the scope list pads it to Bling's documented 1.5-3 k chars."""
    header = {"alg": "HS256", "typ": "JWT"}
    now = int(time.time())
    payload = {
        "iss": "https://api.bling.com.br",
        "sub": secrets.token_hex(8),
        "typ": kind,
        "iat": now,
        "exp": now + expires_in,
        "jti": secrets.token_hex(16),
        "scopes": [10_000_000 + i * 7919 for i in range(130)],
    }
    signing_input = (
        f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(payload).encode())}"
    )
    sig = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(sig)}"


def new_token_pair(fake: FakeBling, family: str, jwt: bool) -> dict[str, Any]:
    """Create and store an access+refresh pair (caller holds the lock)."""
    if jwt:
        access = _jwt(fake.client_secret, "access", fake.expires_in)
        refresh = _jwt(fake.client_secret, "refresh", 30 * 86400)
    else:
        access = secrets.token_hex(20)
        refresh = secrets.token_hex(20)
    fake.tokens.access[access] = AccessToken(family, time.time() + fake.expires_in)
    fake.tokens.refresh[refresh] = RefreshToken(family)
    return {
        "access_token": access,
        "expires_in": fake.expires_in,
        "token_type": "bearer",  # lower case in 2026 responses (bling-v3.md 9b)
        "scope": SCOPE,
        "refresh_token": refresh,
    }


def check_bearer(fake: FakeBling, headers: dict[str, str]) -> None:
    """Raise 401 invalid_token unless a live access token is presented (caller holds the lock)."""
    auth = headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            401, envelope("invalid_token", "invalid_token", "The access token provided is invalid")
        )
    tok = fake.tokens.access.get(token.strip())
    if tok is None or tok.revoked:
        raise ApiError(
            401, envelope("invalid_token", "invalid_token", "The access token provided is invalid")
        )
    if tok.expired or time.time() >= tok.expires_at:
        raise ApiError(
            401, envelope("invalid_token", "invalid_token", "The access token provided has expired")
        )


def _client_ok(fake: FakeBling, headers: dict[str, str]) -> bool:
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return False
    cid, _, csecret = decoded.partition(":")
    return hmac.compare_digest(cid, fake.client_id) and hmac.compare_digest(
        csecret, fake.client_secret
    )


def _parse_form(headers: dict[str, str], raw: bytes) -> dict[str, str]:
    """Form-encoded per the docs; JSON also accepted (an older SDK sent JSON, UNCONFIRMED)."""
    if headers.get("content-type", "").startswith("application/json"):
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            return {}
        return {k: str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    parsed = urllib.parse.parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[-1] for k, v in parsed.items()}


def token_endpoint(
    fake: FakeBling, headers: dict[str, str], raw: bytes
) -> tuple[int, dict[str, Any]]:
    """Handle POST /oauth/token; returns (status, body). The caller records the call."""
    if fake.token_delay:
        # Sleep before deciding, outside the lock, so concurrent refreshes overlap.
        time.sleep(fake.token_delay)
    form = _parse_form(headers, raw)
    grant = form.get("grant_type")
    jwt = headers.get("enable-jwt", "").strip() == "1"
    with fake.lock:
        now = time.time()
        recent = [c for c in fake.token_calls if now - c.at < IP_BLOCK_WINDOW]
        if fake.ip_blocked or len(recent) >= IP_BLOCK_CALLS:
            if not fake.ip_blocked:
                log.warning(
                    "fake bling: >%d token calls in %ss, IP blocked",
                    IP_BLOCK_CALLS,
                    IP_BLOCK_WINDOW,
                )
            fake.ip_blocked = True
            status, body = 403, ip_blocked().body
        else:
            status, body = _grant(fake, headers, form, grant, jwt)
        fake.token_calls.append(TokenCall(grant, now, status))
    return status, body


def _grant(
    fake: FakeBling, headers: dict[str, str], form: dict[str, str], grant: str | None, jwt: bool
) -> tuple[int, dict[str, Any]]:
    if not _client_ok(fake, headers):
        return 401, envelope(
            "invalid_client", "invalid_client", "The client credentials are invalid"
        )
    if grant == "authorization_code":
        code = form.get("code", "")
        entry = fake.tokens.codes.get(code)
        if entry is None:
            return 400, envelope(
                "invalid_grant", "invalid_grant", "The authorization code has expired"
            )
        if entry["used"]:
            # Bling: reuse of a code revokes the user's access obtained through it.
            fake.tokens.revoke_family(code)
            return 400, envelope(
                "VALIDATION_ERROR",
                "Invalid authorization code",
                "This authorization code has already been used, for security reasons the user has had "
                "their access revoked.",
            )
        entry["used"] = True
        return 200, new_token_pair(fake, code, jwt)
    if grant == "refresh_token":
        old = form.get("refresh_token", "")
        rtok = fake.tokens.refresh.get(old)
        if rtok is None or rtok.used or rtok.revoked:
            return 400, envelope("invalid_grant", "invalid_grant", "Invalid refresh token")
        rtok.used = True  # rotation: the old refresh token is single-use
        return 200, new_token_pair(fake, rtok.family, jwt)
    if not grant:
        return 400, envelope(
            "invalid_request", "invalid_request", "The grant type was not specified in the request"
        )
    return 400, envelope(
        "unsupported_grant_type", "unsupported_grant_type", f"Grant type {grant!r} not supported"
    )


def authorize(
    fake: FakeBling, query: dict[str, list[str]]
) -> tuple[int, dict[str, Any] | None, dict[str, str]]:
    """GET /oauth/authorize: a consent-free stub redirecting to redirect_uri with a new code."""
    client_id = (query.get("client_id") or [""])[-1]
    if client_id != fake.client_id:
        return (
            400,
            envelope("invalid_client", "invalid_client", "The client credentials are invalid"),
            {},
        )
    state = (query.get("state") or [""])[-1]
    code = fake.issue_code()
    params = {"code": code}
    if state:
        params["state"] = state
    sep = "&" if "?" in fake.redirect_uri else "?"
    return 302, None, {"Location": f"{fake.redirect_uri}{sep}{urllib.parse.urlencode(params)}"}
