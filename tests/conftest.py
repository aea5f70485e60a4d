"""Shared fixtures (the fake Bling server on loopback, wired into settings; staff of each role)
and the `postgres` marker's skip on other databases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.fakebling import FakeBling

FAKE_CLIENT_ID = "test-client-id"
FAKE_CLIENT_SECRET = "test-client-secret"
FAKE_REDIRECT_URI = "http://testserver/bling/callback/"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `postgres` need real row locks and concurrent writers: on another database
    (SQLite) they are skipped, as the marker's description in pyproject.toml says."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason=f"postgres: needs PostgreSQL, this run uses {connection.vendor}")
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(skip)


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

    from blingsync.bling.token_store import connection_get_or_create, connection_tokens_store
    from blingsync.bling.types import TokenBundle
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


# --- Non-superuser staff of each role (SPEC 8: staff tests use them) --------------------------

ROLES = ("viewer", "operacao", "gestao")


def role_user_create(django_user_model, role: str):
    """A staff user (never a superuser) holding `role`: "viewer" has every view permission
    and nothing else; "operacao" and "gestao" are in the migration's groups."""
    from django.contrib.auth.models import Group, Permission

    from blingsync.roles import (
        OTHER_APPS_SHOWN,
        OUR_APPS,
        ROLE_MANAGEMENT,
        ROLE_OPERATION,
        app_permissions,
        roles_setup,
    )

    roles_setup()  # idempotent; a transactional test's flush removes the migration's groups
    user = django_user_model.objects.create_user(
        username=f"staff-{role}", password="senha-longa-123", is_staff=True
    )
    if role == "viewer":
        names = app_permissions(app_labels=OUR_APPS + OTHER_APPS_SHOWN, view_only=True)
        codenames = [name.split(".", 1)[1] for name in names]
        user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    else:
        name = ROLE_OPERATION if role == "operacao" else ROLE_MANAGEMENT
        user.groups.add(Group.objects.get(name=name))
    assert not user.is_superuser
    return user


@pytest.fixture
def role_client(client, django_user_model):
    """`role_client("operacao")`: the test client logged in as a staff user of that role."""

    def login(role: str):
        client.force_login(role_user_create(django_user_model, role))
        return client

    return login


@pytest.fixture(autouse=True)
def _webhook_refusal_folds_forgotten():
    """Each test starts without the flood folds a previous test left in this process
    (webhooks.refusal_fold remembers them for 30 s)."""
    from webhooks.refusal_fold import refusal_folds_forget

    refusal_folds_forget()
    yield
    refusal_folds_forget()


@pytest.fixture(autouse=True)
def _django_cache_cleared():
    """Each test starts with an empty Django cache: the settings page caches the account's
    deposits for 10 minutes under the company's key, and a list left by an earlier test made
    a later one offer the wrong deposits (the test then depended on the order)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def writes_approved_outside_entry_points(monkeypatch):
    """A service called directly by a test (no entry point around it) writes as if staff had
    approved it: the test is its caller and decides `dry_run` itself. The entry points (the
    job runner, webhook processing, stock evaluations) declare their own scope, held to the
    mode, so the brake is exercised wherever work really starts (blingsync.write_gate)."""
    from blingsync import write_gate

    monkeypatch.setattr(
        write_gate,
        "_DEFAULT_SCOPE",
        write_gate.WriteScope(authority=write_gate.WriteAuthority.APPROVED),
    )


@pytest.fixture(autouse=True)
def _fresh_situations():
    """The order-situation names are cached per process: each test reads its fake's."""
    from products.evidence import order_situations_cache_clear

    order_situations_cache_clear()
    yield
    order_situations_cache_clear()


@pytest.fixture(autouse=True)
def _language_reset():
    """Each test starts in the site's language (LANGUAGE_CODE): a test client request in
    English leaves English active in this thread (LocaleMiddleware does not reset it), and
    commands and job runs write in the active language."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()
