"""The groups "blingsync – operação" and "blingsync – gestão" with their permissions."""

from django.db import migrations

from blingsync.roles import roles_setup


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("blingsync", "0007_permissions"),
        ("products", "0009_permissions"),
        ("webhooks", "0003_permissions"),
        ("alerts", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [migrations.RunPython(roles_setup, migrations.RunPython.noop)]
