from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("analytics", "0005_costs")]

    operations: list[migrations.operations.base.Operation] = []
