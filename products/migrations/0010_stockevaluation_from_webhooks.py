"""`StockEvaluation` moved here from the webhooks app (issue 17).

State only: the model keeps its table (`db_table = "webhooks_stockevaluation"`) and so its
index and constraint names; no SQL runs. The content type row is renamed
(webhooks.stockevaluation -> products.stockevaluation) so the permissions that point at it,
and the roles' grants of them, stay as they were.
"""

from django.db import migrations, models


def _content_type_move(apps, schema_editor, *, source, target):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    db = schema_editor.connection.alias
    rows = ContentType.objects.db_manager(db)
    old = rows.filter(app_label=source, model="stockevaluation").first()
    if old is None:
        return  # a fresh database: the permissions are created for the new label
    new = rows.filter(app_label=target, model="stockevaluation").first()
    if new is None:
        old.app_label = target
        old.save(update_fields=["app_label"])
    else:
        # Both exist (permissions were created for the new label before this ran): keep the
        # new rows and give every group and user the grants the old ones had.
        for permission in Permission.objects.db_manager(db).filter(content_type=old):
            twin = Permission.objects.db_manager(db).filter(
                content_type=new, codename=permission.codename
            ).first()
            if twin is not None:
                for group in permission.group_set.all():
                    group.permissions.add(twin)
                for user in permission.user_set.all():
                    user.user_permissions.add(twin)
        old.delete()
    ContentType.objects.clear_cache()


def forwards(apps, schema_editor):
    _content_type_move(apps, schema_editor, source="webhooks", target="products")


def backwards(apps, schema_editor):
    _content_type_move(apps, schema_editor, source="products", target="webhooks")


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("products", "0009_permissions"),
        ("webhooks", "0005_stockevaluation_moved_to_products"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="StockEvaluation",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "bling_product_id",
                            models.BigIntegerField(unique=True, verbose_name="id do produto no Bling"),
                        ),
                        (
                            "due_at",
                            models.DateTimeField(db_index=True, verbose_name="avaliar a partir de"),
                        ),
                        (
                            "requests",
                            models.PositiveIntegerField(default=1, verbose_name="pedidos agrupados"),
                        ),
                        (
                            "first_event_id",
                            models.CharField(blank=True, max_length=100, verbose_name="primeiro evento"),
                        ),
                        (
                            "claimed_at",
                            models.DateTimeField(
                                blank=True, null=True, verbose_name="em avaliação desde"
                            ),
                        ),
                        (
                            "recover_at",
                            models.DateTimeField(blank=True, null=True, verbose_name="recuperar em"),
                        ),
                        ("attempts", models.PositiveIntegerField(default=0, verbose_name="tentativas")),
                        ("last_error", models.TextField(blank=True, verbose_name="último erro")),
                        (
                            "created_at",
                            models.DateTimeField(auto_now_add=True, verbose_name="criado em"),
                        ),
                    ],
                    options={
                        "verbose_name": "avaliação de estoque pendente",
                        "verbose_name_plural": "avaliações de estoque pendentes",
                        "db_table": "webhooks_stockevaluation",
                        "ordering": ["due_at"],
                        "indexes": [
                            models.Index(
                                condition=models.Q(("recover_at__isnull", False)),
                                fields=["recover_at"],
                                name="webhooks_eval_recover_idx",
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards),
    ]
