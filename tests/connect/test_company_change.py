"""Reconnecting to another Bling company than the stored one: held until staff confirm it,
audited with both company ids, the next sweeps made full, the counters kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from blingsync.models import AuditLog, BlingConnection, JobRun, SweepFullRequest
from blingsync.sweep_cursor import FULL, sweep_cursor_resolve
from products.models import CodeCounter
from tests.connect.test_callback import _authorize_at_fake, _start

pytestmark = pytest.mark.django_db

OTHER = "outra-empresa-0001"


@pytest.fixture
def manager(role_client):
    return role_client("gestao")


@pytest.fixture
def connected_to_a(bling_connected, fake_bling, monkeypatch):
    """Connected to the fake's company; from now on the fake authorizes another company."""
    SweepFullRequest.objects.all().delete()
    CodeCounter.objects.create(prefix="NTB", last_value=41)
    company_a = fake_bling.company_id
    monkeypatch.setattr(fake_bling, "company_id", OTHER)
    fake_bling.token_calls.clear()
    return company_a


def _held_page(manager, fake_bling):
    response = manager.get(_authorize_at_fake(fake_bling, _start(manager)))
    assert response.status_code == 409
    return response


def test_an_authorization_of_another_company_waits_for_a_confirmation(
    manager, fake_bling, connected_to_a
):
    before = BlingConnection.objects.get()
    response = _held_page(manager, fake_bling)
    assert "Esta autorização é de outra empresa" in response.text
    assert connected_to_a in response.text and OTHER in response.text
    conn = BlingConnection.objects.get()
    assert (conn.company_id, conn.access_token_encrypted) == (
        connected_to_a,
        before.access_token_encrypted,
    )
    held = AuditLog.objects.get(action=AuditLog.Action.CONNECTED)
    assert held.outcome == AuditLog.Outcome.FAILED
    assert "aguardando confirmação" in held.error
    assert not SweepFullRequest.objects.exists()
    # The tokens wait encrypted, never in clear, in the session.
    session_blob = str(dict(manager.session))
    assert fake_bling.tokens.refresh and not any(
        t in session_blob for t in fake_bling.tokens.refresh
    )


def test_confirming_switches_company_audits_both_ids_and_asks_for_full_sweeps(
    manager, fake_bling, connected_to_a
):
    _held_page(manager, fake_bling)
    response = manager.post("/bling/confirm/", {"confirm": "yes"})
    assert response.status_code == 200
    assert "Conectado ao Bling" in response.text
    conn = BlingConnection.objects.get()
    assert conn.company_id == OTHER
    assert conn.status == BlingConnection.Status.CONNECTED
    entry = AuditLog.objects.filter(action=AuditLog.Action.CONNECTED).latest("id")
    assert entry.outcome == AuditLog.Outcome.OK
    assert entry.before["company_id"] == connected_to_a
    assert entry.after["company_id"] == OTHER
    assert connected_to_a in entry.reason and OTHER in entry.reason
    assert entry.actor == "staff-gestao"
    _assert_every_next_sweep_full(because_of=OTHER)
    assert CodeCounter.objects.get(prefix="NTB").last_value == 41  # counters stay
    # The new tokens work against the fake (they are the ones it issued for the new company).
    from blingsync.bling.catalog import company_get

    assert company_get().id == OTHER
    # A second confirm (a reload) has nothing left to store.
    assert manager.post("/bling/confirm/", {"confirm": "yes"}).status_code == 400


def test_cancelling_keeps_the_connection_as_it_was(manager, fake_bling, connected_to_a):
    before = BlingConnection.objects.get()
    _held_page(manager, fake_bling)
    response = manager.post("/bling/confirm/", {"cancel": "1"})
    assert response.status_code == 200
    assert "Reconexão cancelada" in response.text
    conn = BlingConnection.objects.get()
    assert (conn.company_id, conn.access_token_encrypted) == (
        before.company_id,
        before.access_token_encrypted,
    )
    assert not SweepFullRequest.objects.exists()


def test_reconnecting_to_the_same_company_needs_no_confirmation(
    manager, fake_bling, bling_connected
):
    SweepFullRequest.objects.all().delete()
    response = manager.get(_authorize_at_fake(fake_bling, _start(manager)))
    assert response.status_code == 200
    assert "Conectado ao Bling" in response.text
    assert not SweepFullRequest.objects.exists()


def test_the_command_refuses_another_company_unless_told(fake_bling, connected_to_a):
    with pytest.raises(CommandError, match="outra empresa"):
        call_command("bling_connect", code=fake_bling.issue_code())
    assert BlingConnection.objects.get().company_id == connected_to_a
    call_command("bling_connect", code=fake_bling.issue_code(), confirm_company_change=True)
    assert BlingConnection.objects.get().company_id == OTHER
    _assert_every_next_sweep_full(because_of=OTHER)


def _assert_every_next_sweep_full(*, because_of: str) -> None:
    requests = {row.kind: row.reason for row in SweepFullRequest.objects.all()}
    assert set(requests) == set(JobRun.Kind.values)
    assert all(because_of in reason for reason in requests.values())
    # Even after a complete live run (before the reconnect), the next codes sweep is full.
    JobRun.objects.create(
        kind="codes",
        status=JobRun.Status.SUCCEEDED,
        started_at=timezone.now() - timedelta(days=1),
        details={"complete": True},
    )
    cursor = sweep_cursor_resolve(kind="codes", params={})
    assert cursor.mode == FULL and cursor.since is None and because_of in cursor.reason
