"""The connect page guides (/bling/connect/): not configured it says what to set up in Bling and
on the server and offers no button; configured it offers the button and says what happens;
connected it names the company and what to do next."""

from __future__ import annotations

import pytest

from blingsync.models import BlingConnection

pytestmark = pytest.mark.django_db


def _not_configured(settings) -> None:
    settings.BLING_CLIENT_ID = ""
    settings.BLING_CLIENT_SECRET = ""
    settings.BLING_REDIRECT_URI = ""
    settings.SITE_URL = "https://loja.example.com.br"


def test_not_configured_shows_the_steps_and_no_button(settings, role_client):
    _not_configured(settings)
    response = role_client("gestao").get("/bling/connect/")
    assert response.status_code == 200
    text = response.content.decode()
    assert 'id="bling-guide-not-configured"' in text
    assert "Central de Extensões" in text
    # The redirect link to paste, computed from SITE_URL.
    assert "https://loja.example.com.br/bling/callback/" in text
    # Every scope of the README's table.
    for scope in ("Produtos", "Categorias de produtos", "Pedidos de venda", "NFC-e", "Situações"):
        assert scope in text
    assert ".env" in text and "BLING_CLIENT_ID" in text and "Reinicie" in text
    assert 'id="bling-guide-connect"' not in text
    assert "Conectar ao Bling</button>" not in text


def test_not_configured_post_does_not_go_to_bling(settings, role_client):
    _not_configured(settings)
    client = role_client("gestao")
    response = client.post("/bling/connect/")
    assert response.status_code == 503
    assert "bling_oauth_state" not in client.session


def test_the_redirect_link_is_bling_redirect_uri_when_set(settings, role_client):
    _not_configured(settings)
    settings.BLING_REDIRECT_URI = "https://outro.example.com/bling/callback/"
    text = role_client("gestao").get("/bling/connect/").content.decode()
    assert "https://outro.example.com/bling/callback/" in text
    assert "loja.example.com.br/bling/callback/" not in text


def test_configured_shows_the_button_and_what_happens(fake_bling, role_client):
    response = role_client("gestao").get("/bling/connect/")
    assert response.status_code == 200
    text = response.content.decode()
    assert 'id="bling-guide-connect"' in text
    assert 'id="bling-guide-what-happens"' in text
    assert fake_bling.redirect_uri in text
    assert 'id="bling-guide-not-configured"' not in text
    assert fake_bling.token_calls == []  # a page view never calls Bling


def test_connected_names_the_company_and_the_next_steps(bling_connected, role_client):
    text = role_client("gestao").get("/bling/connect/").content.decode()
    assert "Conectado ao Bling: Loja Teste" in text
    steps = text.split('id="bling-guide-next"', 1)[1].split("</ol>", 1)[0]
    for step in ("categorias", "regras", "contadores", "plano"):
        assert step in steps
    assert 'id="bling-guide-connect"' in text  # reconnecting stays possible
    assert BlingConnection.objects.get().status == BlingConnection.Status.CONNECTED


def test_the_guide_speaks_english_when_asked(fake_bling, role_client, settings):
    _not_configured(settings)
    client = role_client("gestao")
    text = client.get("/bling/connect/", headers={"accept-language": "en"}).content.decode()
    assert "Paste exactly this address" in text or "paste exactly this address" in text


def test_an_operation_user_gets_a_403_page_naming_the_role(fake_bling, role_client):
    response = role_client("operacao").get("/bling/connect/")
    assert response.status_code == 403
    text = response.content.decode()
    assert "blingsync – gestão" in text
    assert "<html" in text
