from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("analytics", "0004_kpi")]

    operations: list[migrations.operations.base.Operation] = []
