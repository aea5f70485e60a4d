"""The admin speaks Brazilian Portuguese by default, English on request."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_the_login_page_renders_in_portuguese(client):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    assert 'lang="pt-br"' in response.text
    assert "Acessar" in response.text


def test_the_login_page_is_available_in_english(client):
    response = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "Log in" in response.text


def test_the_admin_requires_a_login(client):
    response = client.get("/admin/blingsync/auditlog/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
