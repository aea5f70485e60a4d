"""Admin logins are throttled (django-axes): after AXES_FAILURE_LIMIT failures a username is
locked out from that address, even with the right password; the lockout page speaks
Portuguese and the attempts are visible in the admin."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt

pytestmark = pytest.mark.django_db

PASSWORD = "senha-certa-e-longa-123"


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user(username="bruno", password=PASSWORD, is_staff=True)


def _login(client, password: str):
    return client.post("/admin/login/?next=/admin/", {"username": "bruno", "password": password})


def test_a_right_password_logs_in(client, staff):
    response = _login(client, PASSWORD)
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_repeated_failures_lock_the_username_out(client, staff, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = _login(client, "errada")
        assert response.status_code == 200  # the form again, with Django's error
    locked = _login(client, "errada")
    assert locked.status_code == 429
    assert "Acesso bloqueado temporariamente" in locked.text
    assert "15 minutos" in locked.text
    # Locked out: even the right password does not get in now.
    again = _login(client, PASSWORD)
    assert again.status_code == 429
    assert client.get("/admin/").status_code == 302
    attempt = AccessAttempt.objects.get(username="bruno")
    assert attempt.failures_since_start >= settings.AXES_FAILURE_LIMIT
    assert "errada" not in attempt.post_data  # the password is never stored


def test_the_lockout_page_is_available_in_english(client, staff, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "errada")
    response = client.post(
        "/admin/login/",
        {"username": "bruno", "password": "errada"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 429
    assert "Access temporarily blocked" in response.text


def test_the_attempts_are_visible_in_the_admin(client, staff, admin_client, settings):
    _login(client, "errada")
    page = admin_client.get("/admin/axes/accessattempt/")
    assert page.status_code == 200
    assert "bruno" in page.text
    assert "Tentativas de acesso" in page.text


def test_force_login_is_not_throttled(client, staff):
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200
