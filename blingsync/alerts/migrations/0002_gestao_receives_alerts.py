"""The "blingsync – gestão" group (SPEC 5.12, created by the roles migration) receives alerts.

The group is created here when missing (get_or_create), so this migration does not depend
on the order in which the two are applied. The permission is created first: Django only
creates permissions after all migrations ran (post_migrate).
"""

from django.db import migrations

GROUP = "blingsync – gestão"


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions
    from django.contrib.contenttypes.management import create_contenttypes

    app_config = apps.get_app_config("alerts")
    app_config.models_module = True
    create_contenttypes(app_config, apps=apps, verbosity=0)
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perm = Permission.objects.get(codename="receive_alerts", content_type__app_label="alerts")
    group, _created = Group.objects.get_or_create(name=GROUP)
    group.permissions.add(perm)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perm = Permission.objects.filter(
        codename="receive_alerts", content_type__app_label="alerts"
    ).first()
    group = Group.objects.filter(name=GROUP).first()
    if perm is not None and group is not None:
        group.permissions.remove(perm)


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
