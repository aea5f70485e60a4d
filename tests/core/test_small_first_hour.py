"""Small things of a first hour: a favicon (no 404 per page), ensure_admin naming what it
creates (a superuser)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("favicon.svg")
    from django.contrib.staticfiles import finders

    assert finders.find("favicon.svg")


def test_admin_pages_link_the_icon(admin_client):
    assert 'rel="icon"' in admin_client.get("/admin/").content.decode()


def test_ensure_admin_says_superuser(monkeypatch, django_user_model):
    monkeypatch.setenv("ADMIN_USER", "ana")
    monkeypatch.setenv("ADMIN_PASSWORD", "uma-senha-bem-longa-123")
    out = io.StringIO()
    call_command("ensure_admin", stdout=out)
    assert "superusuário 'ana' criado" in out.getvalue()
    assert "staff user" not in out.getvalue()
    assert django_user_model.objects.get(username="ana").is_superuser
