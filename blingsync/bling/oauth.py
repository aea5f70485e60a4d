"""Bling's OAuth client side: the authorize URL and the exchange of a code for a token pair.

Claiming a code once, auditing and storing the connection is the connect use case
(`blingsync.connect.services`); this module only speaks to Bling.
"""

from __future__ import annotations

import secrets
import urllib.parse

from django.conf import settings

from blingsync.bling.tokens import token_request
from blingsync.bling.types import TokenBundle


def oauth_state_new() -> str:
    return secrets.token_urlsafe(32)


def oauth_authorize_url(*, state: str) -> str:
    """Bling's authorization page for this app, with `state` (+ redirect_uri if configured)."""
    params = {"response_type": "code", "client_id": settings.BLING_CLIENT_ID, "state": state}
    if settings.BLING_REDIRECT_URI:
        params["redirect_uri"] = settings.BLING_REDIRECT_URI
    sep = "&" if "?" in settings.BLING_AUTHORIZE_URL else "?"
    return f"{settings.BLING_AUTHORIZE_URL}{sep}{urllib.parse.urlencode(params)}"


def oauth_code_exchange(*, code: str) -> TokenBundle:
    """One call to the token endpoint with an authorization code (never retried: Bling
    revokes the user's access when a code is reused, so the caller claims it first)."""
    return token_request(grant_type="authorization_code", code=code)
