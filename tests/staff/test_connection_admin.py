"""The Bling connection in the admin: state and expiry, a connect button, never the tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from blingsync.models import BlingConnection

pytestmark = pytest.mark.django_db


def test_it_shows_state_and_expiry_but_never_the_tokens(staff_client):
    conn = BlingConnection.objects.create(
        company_name="Loja Teste",
        status=BlingConnection.Status.CONNECTED,
        access_token_encrypted="CIPHERTEXT-ACCESS-should-never-show",
        refresh_token_encrypted="CIPHERTEXT-REFRESH-should-never-show",
        expires_at=timezone.now() + timedelta(hours=5, minutes=1),
    )
    for url in (
        "/admin/blingsync/blingconnection/",
        f"/admin/blingsync/blingconnection/{conn.pk}/change/",
    ):
        response = staff_client.get(url)
        assert response.status_code == 200
        assert "Loja Teste" in response.text
        assert "CIPHERTEXT" not in response.text
        assert "Conectar ao Bling" in response.text
    assert "5 h 0 min" in response.text or "5 h 1 min" in response.text


def test_the_list_offers_the_connect_button(staff_client):
    response = staff_client.get("/admin/blingsync/blingconnection/")
    assert response.status_code == 200
    assert 'id="bling-connect"' in response.text
    assert "/bling/connect/" in response.text
