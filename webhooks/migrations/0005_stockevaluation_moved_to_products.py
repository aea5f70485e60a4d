"""`StockEvaluation` moved to the products app (issue 17): state only, the table
`webhooks_stockevaluation` stays where it is and no SQL runs. The model is recreated in the
products state by `products.0010_stockevaluation_from_webhooks`, which also moves its
content type (so permissions and the roles' grants carry over)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0004_inbox_ignore_reason_recovery_refused_metadata"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="StockEvaluation")],
            database_operations=[],
        ),
    ]
