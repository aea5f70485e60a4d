"""The categories admin: effective rule columns and audited rule edits."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from blingsync.models import AuditLog
from products.models import CategoryRule

pytestmark = pytest.mark.django_db


@pytest.fixture
def mirrored(fake_bling, bling_connected):
    notebook = fake_bling.add_category("Notebook")["id"]
    dell = fake_bling.add_category("Dell", parent_id=notebook)["id"]
    pecas = fake_bling.add_category("Peças")["id"]
    placa = fake_bling.add_category("Placa Mãe", parent_id=pecas)["id"]
    call_command("sync_categories", stdout=io.StringIO())
    return {"notebook": notebook, "dell": dell, "pecas": pecas, "placa": placa}


def test_the_list_shows_the_effective_rule_of_each_category(admin_client, mirrored):
    response = admin_client.get("/admin/products/category/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Notebook &gt; Dell" in text
    assert "NTB (Notebook)" in text
    assert "PLMA (derivado de “Placa Mãe”)" in text
    assert "usa o prefixo da subcategoria" in text
    assert "não (Notebook)" in text


def test_an_inline_rule_edit_is_saved_and_audited(admin_client, mirrored):
    dell = mirrored["dell"]
    response = admin_client.post(
        f"/admin/products/category/{dell}/change/",
        {
            "rule-TOTAL_FORMS": "1",
            "rule-INITIAL_FORMS": "0",
            "rule-MIN_NUM_FORMS": "0",
            "rule-MAX_NUM_FORMS": "1",
            "rule-0-id": "",
            "rule-0-category": str(dell),
            "rule-0-prefix": "DELL",
            "rule-0-code_policy": "",
            "rule-0-deactivate_when_sold_out": "true",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    rule = CategoryRule.objects.get(category_id=dell)
    assert (rule.prefix, rule.deactivate_when_sold_out) == ("DELL", True)
    entry = AuditLog.objects.filter(action=AuditLog.Action.RULE_CHANGED, actor="admin").get()
    assert entry.before is None and entry.after["prefix"] == "DELL"
    page = admin_client.get("/admin/products/category/").content.decode()
    assert "DELL (Notebook &gt; Dell)" in page


def test_a_bad_prefix_is_refused_with_a_message(admin_client, mirrored):
    rule = CategoryRule.objects.get(category_id=mirrored["notebook"])
    response = admin_client.post(
        f"/admin/products/categoryrule/{rule.pk}/change/",
        {
            "category": str(mirrored["notebook"]),
            "name_match": "Notebook",
            "prefix": "nt-1",
            "code_policy": "generate",
            "deactivate_when_sold_out": "false",
        },
    )
    assert response.status_code == 200
    assert "letras maiúsculas" in response.content.decode()
    assert CategoryRule.objects.get(pk=rule.pk).prefix == "NTB"


def test_a_rule_edit_in_the_rules_admin_is_audited(admin_client, mirrored):
    rule = CategoryRule.objects.get(category_id=mirrored["notebook"])
    response = admin_client.post(
        f"/admin/products/categoryrule/{rule.pk}/change/",
        {
            "category": str(mirrored["notebook"]),
            "name_match": "Notebook",
            "prefix": "NB",
            "code_policy": "generate",
            "deactivate_when_sold_out": "false",
        },
    )
    assert response.status_code == 302
    entry = AuditLog.objects.filter(action=AuditLog.Action.RULE_CHANGED, actor="admin").get()
    assert (entry.before["prefix"], entry.after["prefix"]) == ("NTB", "NB")
    assert entry.source == AuditLog.Source.ADMIN


def test_an_unset_choice_reads_inherited_as_its_help_says(role_client, mirrored):
    """The rule form's empty choices say "Herdado/Herdada" (the help: "Vazio: herdado ..."),
    not Django's "Desconhecido"; the rules list says "herdado" too."""
    client = role_client("gestao")
    page = client.get(f"/admin/products/category/{mirrored['placa']}/change/").content.decode()
    assert "Herdado (da categoria pai)" in page and "Herdada (da categoria pai)" in page
    assert "Desconhecido" not in page
    CategoryRule.objects.create(name_match="Acessórios", prefix="ACES")
    rules = client.get("/admin/products/categoryrule/").content.decode()
    assert "herdado" in rules and "Desconhecido" not in rules
    assert "Por situação no Bling" in client.get("/admin/products/category/").content.decode()
