"""Shared fixtures: the fake Bling server (real HTTP on loopback) wired into settings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.fakebling import FakeBling

FAKE_CLIENT_ID = "test-client-id"
FAKE_CLIENT_SECRET = "test-client-secret"
FAKE_REDIRECT_URI = "http://testserver/bling/callback/"


@pytest.fixture(scope="session")
def fake_bling_server() -> Iterator[FakeBling]:
    from tests.fakebling import FakeBling

    fake = FakeBling(
        client_id=FAKE_CLIENT_ID,
        client_secret=FAKE_CLIENT_SECRET,
        redirect_uri=FAKE_REDIRECT_URI,
    )
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_bling(fake_bling_server: FakeBling, settings) -> Iterator[FakeBling]:
    """A clean fake Bling for this test, with the app's settings pointing at it.

    Rate limits are off on both sides by default so the suite stays fast; tests about limits
    switch them on (`fake_bling.rate_per_second = 3` and `settings.BLING_RATE_PER_SECOND`).
    """
    fake = fake_bling_server
    fake.reset()
    fake.rate_per_second = None
    settings.BLING_API_BASE_URL = fake.base_url
    settings.BLING_AUTHORIZE_URL = fake.authorize_url
    settings.BLING_CLIENT_ID = FAKE_CLIENT_ID
    settings.BLING_CLIENT_SECRET = FAKE_CLIENT_SECRET
    settings.BLING_REDIRECT_URI = FAKE_REDIRECT_URI
    settings.BLING_RATE_PER_SECOND = 1000
    yield fake
    fake.reset()


@pytest.fixture
def bling_connected(fake_bling: FakeBling, db, settings):
    """A BlingConnection (connected) holding a live token pair from the fake, with the fake's
    company; fast retries so failure tests stay quick. The fake's rate limit stays off."""
    from datetime import timedelta

    from django.utils import timezone

    from blingsync.bling.types import TokenBundle
    from blingsync.connection import connection_get_or_create, connection_tokens_store
    from blingsync.models import BlingConnection

    settings.BLING_RETRY_BASE_SECONDS = 0.01
    settings.BLING_RETRY_MAX_SECONDS = 0.05
    tokens = fake_bling.issue_tokens()
    conn = connection_get_or_create()
    connection_tokens_store(
        connection=conn,
        bundle=TokenBundle(
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
            expires_at=timezone.now() + timedelta(seconds=tokens["expires_in"]),
            scope=tokens["scope"],
        ),
    )
    BlingConnection.objects.filter(pk=conn.pk).update(
        company_id=fake_bling.company_id, company_name="Loja Teste"
    )
    conn.refresh_from_db()
    return conn


@pytest.fixture(autouse=True)
def _webhook_refusal_folds_forgotten():
    """Each test starts without the flood folds a previous test left in this process
    (webhooks.refusal_fold remembers them for 30 s)."""
    from webhooks.refusal_fold import refusal_folds_forget

    refusal_folds_forget()
    yield
    refusal_folds_forget()
