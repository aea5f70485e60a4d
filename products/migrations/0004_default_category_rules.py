"""Seed the default category rules of SPEC 5.3 (once: later staff edits are never undone)."""

from django.db import migrations


def seed(apps, schema_editor):
    from products.rule_defaults import category_rules_seed

    category_rules_seed(rule_model=apps.get_model("products", "CategoryRule"))


class Migration(migrations.Migration):
    dependencies = [("products", "0003_codes_rules")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
