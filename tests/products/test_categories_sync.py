"""`sync_categories`: the mirror, full paths, removed categories, rules attached by name."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from blingsync.models import AuditLog
from products.models import Category, CategoryRule
from products.rule_defaults import DEFAULT_RULES, category_rules_seed
from products.selectors import category_rule_effective

pytestmark = pytest.mark.django_db


def _sync() -> str:
    out = io.StringIO()
    call_command("sync_categories", stdout=out)
    return out.getvalue()


def test_a_new_install_has_the_default_rules():
    rules = {r.name_match: r for r in CategoryRule.objects.all()}
    assert set(rules) == {name for name, *_ in DEFAULT_RULES}
    assert {rules[n].prefix for n in ("Notebook", "Mini", "SFF")} == {"NTB"}
    assert rules["Peças"].code_policy == "subcategory"
    assert (rules["SubMaquina"].code_policy, rules["SubMaquina"].deactivate_when_sold_out) == (
        "skip",
        False,
    )
    assert rules["Monitor"].deactivate_when_sold_out is False
    # seeding again changes nothing, and never undoes a staff edit
    CategoryRule.objects.filter(name_match="Monitor").update(deactivate_when_sold_out=True)
    CategoryRule.objects.filter(name_match="Mini").delete()
    assert category_rules_seed() == 1  # only the missing one
    assert CategoryRule.objects.get(name_match="Monitor").deactivate_when_sold_out is True


def test_it_mirrors_categories_with_their_full_path(fake_bling, bling_connected):
    pecas = fake_bling.add_category("Peças")["id"]
    placa = fake_bling.add_category("Placa Mãe", parent_id=pecas)["id"]
    ddr = fake_bling.add_category("DDR4", parent_id=placa)["id"]
    output = _sync()
    assert Category.objects.get(pk=ddr).full_path == "Peças > Placa Mãe > DDR4"
    assert Category.objects.get(pk=placa).parent_id == pecas
    assert Category.objects.get(pk=pecas).parent_id is None
    assert "concluído" in output


def test_it_pages_through_many_categories(fake_bling, bling_connected):
    for i in range(230):
        fake_bling.add_category(f"Categoria {i:03d}")
    _sync()
    assert Category.objects.count() == 230
    pages = fake_bling.calls(method="GET", path="/categorias/produtos")
    assert [c.query["pagina"] for c in pages] == [["1"], ["2"], ["3"]]
    assert all(c.query["limite"] == ["100"] for c in pages)


def test_a_category_removed_in_bling_is_marked_not_deleted(fake_bling, bling_connected):
    keep = fake_bling.add_category("Monitor")["id"]
    gone = fake_bling.add_category("Antiga")["id"]
    _sync()
    del fake_bling.categories[gone]
    _sync()
    assert Category.objects.get(pk=gone).removed_at is not None
    assert Category.objects.get(pk=keep).removed_at is None
    # and it comes back if Bling shows it again
    fake_bling.add_category("Antiga", id=gone)
    _sync()
    assert Category.objects.get(pk=gone).removed_at is None


def test_rules_by_name_are_attached_to_the_mirrored_categories(fake_bling, bling_connected):
    notebook = fake_bling.add_category("NOTEBOOK")["id"]
    pecas = fake_bling.add_category("Pecas")["id"]
    sub_top = fake_bling.add_category("Submáquina")["id"]
    sub_pecas = fake_bling.add_category("SubMaquina", parent_id=pecas)["id"]
    _sync()
    assert CategoryRule.objects.get(category_id=notebook).prefix == "NTB"
    assert CategoryRule.objects.get(category_id=pecas).code_policy == "subcategory"
    # both SubMaquina categories got the rule (the second one a copy of it)
    for cid in (sub_top, sub_pecas):
        rule = CategoryRule.objects.get(category_id=cid)
        assert (rule.code_policy, rule.deactivate_when_sold_out) == ("skip", False)
    assert AuditLog.objects.filter(action=AuditLog.Action.RULE_CHANGED).count() == 4
    # a second sync attaches nothing more and leaves staff edits alone
    CategoryRule.objects.filter(category_id=notebook).update(prefix="NB")
    _sync()
    assert CategoryRule.objects.get(category_id=notebook).prefix == "NB"
    assert AuditLog.objects.filter(action=AuditLog.Action.RULE_CHANGED).count() == 4


def test_the_effective_rule_selector_reads_the_mirror(fake_bling, bling_connected):
    notebook = fake_bling.add_category("Notebook")["id"]
    dell = fake_bling.add_category("Dell", parent_id=notebook)["id"]
    sub = fake_bling.add_category("SubMaquina", parent_id=notebook)["id"]
    tv = fake_bling.add_category("Televisores")["id"]
    _sync()
    rule = category_rule_effective(category_id=dell)
    assert (rule.prefix, rule.code_policy, rule.deactivate_when_sold_out) == (
        "NTB",
        "generate",
        False,
    )
    assert category_rule_effective(category_id=sub).code_policy == "skip"
    assert category_rule_effective(category_id=tv).deactivate_when_sold_out is True
    unknown = category_rule_effective(category_id=424242)
    assert (unknown.known, unknown.deactivate_when_sold_out) == (False, False)
    no_category = category_rule_effective(category_id=None)
    assert (no_category.known, no_category.deactivate_when_sold_out) == (False, True)


def test_a_rule_added_by_name_applies_before_the_next_sync(fake_bling, bling_connected):
    tv = fake_bling.add_category("Televisores")["id"]
    _sync()
    CategoryRule.objects.create(name_match="televisores", prefix="TVS")
    assert category_rule_effective(category_id=tv).prefix == "TVS"
