"""Token-bearing dataclasses never show a token in their repr (a log line, a traceback's
locals, a debugger): `TokenBundle`, `tokens.AccessToken`, and what carries a bundle."""

from __future__ import annotations

from django.utils import timezone

from blingsync.bling.tokens import AccessToken
from blingsync.bling.types import Company, TokenBundle
from blingsync.connect.services import CompanyChange

SECRET = "s3cr3t-token-value"


def test_a_token_bundle_shows_no_token():
    bundle = TokenBundle(
        access_token="access-" + SECRET,
        refresh_token="refresh-" + SECRET,
        expires_at=timezone.now(),
    )
    assert SECRET not in repr(bundle) and SECRET not in str(bundle)
    assert "expires_at" in repr(bundle)  # the rest is still there to read
    change = CompanyChange(
        bundle=bundle,
        company=Company(id="1", name="Loja"),
        stored_company_id="",
        stored_company_name="",
    )
    assert SECRET not in repr(change)


def test_an_access_token_shows_neither_token_nor_ciphertext():
    token = AccessToken(connection_id=1, token=SECRET, ciphertext="gAAAA" + SECRET, expires_at=None)
    assert SECRET not in repr(token)
