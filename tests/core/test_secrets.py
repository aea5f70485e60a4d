"""Secrets: a weak or placeholder SECRET_KEY stops the app with DEBUG=false; rotating
SECRET_KEY (with SECRET_KEY_FALLBACKS) or TOKEN_ENCRYPTION_KEY keeps the Bling connection;
`rotate_token_key` re-encrypts the stored tokens."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from blingsync.bling import catalog
from blingsync.bling.errors import BlingNotConnected
from blingsync.models import BlingConnection

ROOT = Path(__file__).resolve().parents[2]


def _env_example_secret_key() -> str:
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.startswith("SECRET_KEY="):
            return line.split("=", 1)[1]
    raise AssertionError(".env.example has no SECRET_KEY line")


def _start_with(secret_key: str, debug: str = "false") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "BLING"))}
    env.update(
        {"DJANGO_SETTINGS_MODULE": "blingsync.settings", "SECRET_KEY": secret_key, "DEBUG": debug}
    )
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize(
    "key, why",
    [
        (_env_example_secret_key(), "placeholder"),
        ("django-insecure-" + "k3y0123456789abcdefghijklmnopqrstuvwxyzABCDEF", "placeholder"),
        ("Short-but-varied-0123456789", "too short"),
        ("ab" * 40, "too little variety"),
    ],
)
def test_it_refuses_a_weak_secret_key_when_debug_is_off(key, why):
    result = _start_with(key)
    assert result.returncode != 0
    assert why in result.stderr
    assert "secrets.token_urlsafe" in result.stderr  # says how to make a good one


def test_it_starts_with_a_strong_key_and_with_a_weak_one_in_debug():
    import secrets

    assert "started" in _start_with(secrets.token_urlsafe(64)).stdout
    assert "started" in _start_with(_env_example_secret_key(), debug="true").stdout


@pytest.mark.django_db
def test_a_secret_key_rotation_keeps_the_connection(bling_connected, fake_bling, settings):
    old_key = settings.SECRET_KEY
    settings.TOKEN_ENCRYPTION_KEY = ""
    settings.SECRET_KEY = "new-secret-key-" + "Zq8wX3vB7nM1kL5pR9tY2uI6oA4sD0fG" * 2
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert catalog.company_get().id == fake_bling.company_id
    conn = BlingConnection.objects.get()
    assert conn.status == BlingConnection.Status.CONNECTED
    before = (conn.access_token_encrypted, conn.refresh_token_encrypted)

    call_command("rotate_token_key")
    conn.refresh_from_db()
    assert (conn.access_token_encrypted, conn.refresh_token_encrypted) != before

    settings.SECRET_KEY_FALLBACKS = []  # the old key is gone: the re-encrypted tokens still open
    assert catalog.company_get().id == fake_bling.company_id
    assert BlingConnection.objects.get().status == BlingConnection.Status.CONNECTED
    assert [c.grant_type for c in fake_bling.token_calls] == []  # no refresh was needed


@pytest.mark.django_db
def test_a_key_change_without_fallback_asks_for_a_reconnect(bling_connected, settings):
    settings.TOKEN_ENCRYPTION_KEY = ""
    settings.SECRET_KEY = "another-secret-key-" + "Zq8wX3vB7nM1kL5pR9tY2uI6oA4sD0fG" * 2
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(BlingNotConnected):
        catalog.company_get()
    assert BlingConnection.objects.get().status == BlingConnection.Status.NEEDS_RECONNECT
    with pytest.raises(CommandError, match="SECRET_KEY_FALLBACKS"):
        call_command("rotate_token_key")


@pytest.mark.django_db
def test_a_token_encryption_key_list_rotates(bling_connected, fake_bling, settings):
    settings.TOKEN_ENCRYPTION_KEY = "first-passphrase-of-the-install"
    call_command("rotate_token_key")  # from the SECRET_KEY-derived key to the configured one
    settings.TOKEN_ENCRYPTION_KEY = "second-passphrase-now-current,first-passphrase-of-the-install"
    assert catalog.company_get().id == fake_bling.company_id
    call_command("rotate_token_key")
    settings.TOKEN_ENCRYPTION_KEY = "second-passphrase-now-current"
    assert catalog.company_get().id == fake_bling.company_id
    assert BlingConnection.objects.get().status == BlingConnection.Status.CONNECTED
