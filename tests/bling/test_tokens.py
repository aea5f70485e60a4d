"""Token refresh: one refresher at a time, rotation kept, refusals stop everything."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from blingsync.bling import catalog
from blingsync.bling.errors import BlingNotConnected, BlingUnavailable
from blingsync.bling.token_crypto import token_decrypt, token_encrypt
from blingsync.bling.token_store import connection_refresh_token
from blingsync.jobrunner import job_run_now
from blingsync.models import AuditLog, BlingConnection, JobRun


def _live_refresh_tokens(fake_bling) -> list[str]:
    return [t for t, r in fake_bling.tokens.refresh.items() if not r.used and not r.revoked]


def _in_threads(n: int, func) -> tuple[list, list[BaseException]]:
    results: list = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(n)

    def run() -> None:
        try:
            barrier.wait()
            results.append(func())
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results, errors


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("how", ["rejected_by_bling", "expired_in_our_records"])
def test_eight_threads_with_an_expired_token_refresh_once(fake_bling, bling_connected, how):
    fake_bling.token_delay = 0.3  # the refresh takes a while: everyone piles up behind it
    if how == "rejected_by_bling":
        fake_bling.expire_access_tokens()  # each thread gets a 401 first
    else:
        BlingConnection.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    results, errors = _in_threads(8, catalog.company_get)
    assert errors == []
    assert [r.id for r in results] == [fake_bling.company_id] * 8
    assert [c.grant_type for c in fake_bling.token_calls] == ["refresh_token"]
    conn = BlingConnection.objects.get()
    assert conn.status == BlingConnection.Status.CONNECTED
    assert [connection_refresh_token(conn)] == _live_refresh_tokens(fake_bling)
    assert conn.refresh_lease_owner == ""
    assert AuditLog.objects.filter(action=AuditLog.Action.TOKEN_REFRESHED).count() == 1


def test_a_token_close_to_expiry_is_refreshed_before_the_call(fake_bling, bling_connected):
    BlingConnection.objects.update(expires_at=timezone.now() + timedelta(minutes=4))
    catalog.company_get()
    assert [c.grant_type for c in fake_bling.token_calls] == ["refresh_token"]
    assert [c.status for c in fake_bling.calls(path="/empresas/me/dados-basicos")] == [200]
    conn = BlingConnection.objects.get()
    assert conn.expires_at > timezone.now() + timedelta(hours=5)
    entry = AuditLog.objects.get(action=AuditLog.Action.TOKEN_REFRESHED)
    text = f"{entry.before} {entry.after} {entry.reason} {entry.error}"
    assert connection_refresh_token(conn) not in text
    assert "expires_at" in str(entry.after)


def test_invalid_grant_needs_reconnect_and_stops_token_calls(fake_bling, bling_connected, client):
    fake_bling.revoke_refresh_tokens()
    fake_bling.expire_access_tokens()
    with pytest.raises(BlingNotConnected, match="Conecte novamente"):
        catalog.company_get()
    conn = BlingConnection.objects.get()
    assert conn.status == BlingConnection.Status.NEEDS_RECONNECT
    assert "invalid_grant" in conn.last_refresh_error
    assert conn.last_refresh_ok is False
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["connection"]["state"] == "needs_reconnect"
    for _ in range(3):
        with pytest.raises(BlingNotConnected):
            catalog.company_get()
    assert len(fake_bling.token_calls) == 1
    assert len(fake_bling.calls(path="/empresas/me/dados-basicos")) == 1
    entry = AuditLog.objects.get(action=AuditLog.Action.TOKEN_REFRESHED)
    assert entry.outcome == AuditLog.Outcome.FAILED


def test_a_transient_refresh_failure_cools_down_instead_of_retrying(fake_bling, bling_connected):
    BlingConnection.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    fake_bling.ip_blocked = True  # the token endpoint answers 403 (IP blocked)
    with pytest.raises(BlingUnavailable):
        catalog.company_get()
    for _ in range(3):
        with pytest.raises(BlingUnavailable, match="falhou há pouco"):
            catalog.company_get()
    assert len(fake_bling.token_calls) == 1
    conn = BlingConnection.objects.get()
    assert conn.status == BlingConnection.Status.CONNECTED  # reconnecting would not help
    assert conn.last_refresh_ok is False


def test_a_stale_refusal_after_a_lost_race_keeps_the_connection(fake_bling, bling_connected):
    """Another process rotated the refresh token while ours was being refused."""
    from blingsync.bling.token_store import connection_mark_needs_reconnect

    conn = BlingConnection.objects.get()
    used = conn.refresh_token_encrypted
    BlingConnection.objects.update(refresh_token_encrypted=token_encrypt("newer"))
    changed = connection_mark_needs_reconnect(
        connection=conn, error="invalid_grant", refresh_ciphertext=used
    )
    assert changed is False
    assert BlingConnection.objects.get().status == BlingConnection.Status.CONNECTED


def test_the_tokens_job_refreshes_only_when_expiry_is_near(fake_bling, bling_connected):
    run = job_run_now(kind="tokens", trigger=JobRun.Trigger.COMMAND)
    assert run.status == JobRun.Status.SUCCEEDED
    assert fake_bling.token_calls == []
    BlingConnection.objects.update(expires_at=timezone.now() + timedelta(minutes=30))
    run = job_run_now(kind="tokens", trigger=JobRun.Trigger.COMMAND)
    assert run.status == JobRun.Status.SUCCEEDED
    assert run.changed == 1
    assert run.api_calls == 1
    assert [c.grant_type for c in fake_bling.token_calls] == ["refresh_token"]


def test_tokens_are_encrypted_at_rest(fake_bling, bling_connected):
    conn = BlingConnection.objects.get()
    plain = connection_refresh_token(conn)
    assert plain and plain not in conn.refresh_token_encrypted
    assert token_decrypt(conn.refresh_token_encrypted) == plain


def test_a_changed_key_asks_for_a_reconnect(fake_bling, bling_connected, settings):
    # The tokens were encrypted with the SECRET_KEY-derived key, which keeps decrypting after
    # TOKEN_ENCRYPTION_KEY is set: both must change (without fallback) to lose them.
    settings.TOKEN_ENCRYPTION_KEY = "another-key"
    settings.SECRET_KEY = "a-different-secret-key-" + "Zq8wX3vB7nM1kL5pR9tY2uI6oA4sD0fG"
    with pytest.raises(BlingNotConnected):
        catalog.company_get()
    assert BlingConnection.objects.get().status == BlingConnection.Status.NEEDS_RECONNECT
    assert fake_bling.calls() == []
