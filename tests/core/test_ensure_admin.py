"""`manage.py ensure_admin` (run by `make run` on every start): the password goes through
Django's validators, an existing user is never changed (its password never reset), and the
output says what kind of user it is."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

pytestmark = pytest.mark.django_db

GOOD = "um-cavalo-azul-e-longo-42"


def _run(monkeypatch, user: str, password: str) -> str:
    monkeypatch.setenv("ADMIN_USER", user)
    monkeypatch.setenv("ADMIN_PASSWORD", password)
    out = StringIO()
    with translation.override("pt-br"):
        call_command("ensure_admin", stdout=out)
    return out.getvalue()


def test_it_creates_a_superuser_with_a_valid_password(monkeypatch, django_user_model):
    out = _run(monkeypatch, "ana", GOOD)

    user = django_user_model.objects.get(username="ana")
    assert user.is_superuser and user.is_staff and user.check_password(GOOD)
    assert "superusuário 'ana' criado" in out


@pytest.mark.parametrize("password", ["123", "password123", "12345678901234", "ana-ana"])
def test_a_weak_password_is_refused_with_the_validators_words(
    monkeypatch, django_user_model, password
):
    with pytest.raises(CommandError) as refused:
        _run(monkeypatch, "ana", password)

    assert "ADMIN_PASSWORD recusada para 'ana'" in str(refused.value)
    assert "Nada foi criado" in str(refused.value)
    assert not django_user_model.objects.filter(username="ana").exists()


def test_an_existing_user_keeps_its_password(monkeypatch, django_user_model):
    django_user_model.objects.create_superuser(
        username="ana", email="", password="mudada-no-admin-77"
    )

    out = _run(monkeypatch, "ana", GOOD)

    user = django_user_model.objects.get(username="ana")
    assert user.check_password("mudada-no-admin-77") and not user.check_password(GOOD)
    assert "superusuário 'ana' já existe" in out and "não é redefinida" in out


def test_an_existing_staff_user_is_called_a_staff_user_and_not_promoted(
    monkeypatch, django_user_model
):
    django_user_model.objects.create_user(
        username="bia", password="outra-senha-longa-9", is_staff=True
    )

    out = _run(monkeypatch, "bia", GOOD)

    user = django_user_model.objects.get(username="bia")
    assert not user.is_superuser and user.check_password("outra-senha-longa-9")
    assert "usuário da equipe 'bia' já existe" in out
    assert "superusuário" not in out


def test_it_speaks_english_when_asked(monkeypatch):
    monkeypatch.setenv("ADMIN_USER", "ana")
    monkeypatch.setenv("ADMIN_PASSWORD", GOOD)
    out = StringIO()
    with translation.override("en"):
        call_command("ensure_admin", stdout=out)
    assert "superuser 'ana' created" in out.getvalue()
