"""Staff read Portuguese by default; English is available (Accept-Language or the admin's
language selector). The compiled catalogues are in the repository."""

from __future__ import annotations

import gettext
from pathlib import Path

import pytest
from django.conf import settings

from blingsync.admin.django_q_strings import DJANGO_Q_STRINGS

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("lang", ["pt_BR", "en"])
def test_the_compiled_catalogues_are_shipped(lang):
    assert (Path(settings.BASE_DIR) / "locale" / lang / "LC_MESSAGES" / "django.mo").is_file()


def _catalog(lang: str) -> dict:
    path = Path(settings.BASE_DIR) / "locale" / lang / "LC_MESSAGES" / "django.mo"
    with path.open("rb") as handle:
        return gettext.GNUTranslations(handle)._catalog


def test_every_portuguese_string_has_an_english_translation():
    portuguese = {
        key
        for key, value in _catalog("pt_BR").items()
        if key and isinstance(key, str) and key == value and key not in DJANGO_Q_STRINGS
    }
    english = _catalog("en")
    untranslated = sorted(key for key in portuguese if key not in english)
    assert len(portuguese) > 100
    assert untranslated == []


def test_the_dashboard_is_in_portuguese_by_default(staff_client):
    text = staff_client.get("/dashboard/").text
    assert 'lang="pt-br"' in text
    assert "Conexão com o Bling" in text
    assert "Executar agora" in text
    assert "Início" in text  # Django's own strings stay Portuguese too


def test_the_dashboard_is_in_english_on_request(staff_client):
    text = staff_client.get("/dashboard/", HTTP_ACCEPT_LANGUAGE="en").text
    assert 'lang="en"' in text
    assert "Bling connection" in text
    assert "Run now" in text
    assert "Conexão com o Bling" not in text


def test_model_labels_follow_the_language(staff_client):
    pt = staff_client.get("/admin/blingsync/jobrun/").text
    en = staff_client.get("/admin/blingsync/jobrun/", HTTP_ACCEPT_LANGUAGE="en").text
    assert "Execuções de tarefas" in pt and ">executando</a>" in pt
    assert "Job runs" in en and ">running</a>" in en


def test_the_schedules_admin_is_in_portuguese(staff_client):
    pt = staff_client.get("/admin/django_q/schedule/").text
    en = staff_client.get("/admin/django_q/schedule/", HTTP_ACCEPT_LANGUAGE="en").text
    assert "Agendamentos" in pt or "agendamento" in pt.lower()
    assert "Scheduled task" in en


def test_the_language_selector_switches_to_english(staff_client):
    response = staff_client.post("/dashboard/idioma/", {"language": "en", "next": "/dashboard/"})
    assert response.status_code == 302
    assert "Bling connection" in staff_client.get("/dashboard/").text
    staff_client.post("/dashboard/idioma/", {"language": "pt-br", "next": "/dashboard/"})
    assert "Conexão com o Bling" in staff_client.get("/dashboard/").text
