from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("analytics", "0003_run_reports_and_stage")]

    operations: list[migrations.operations.base.Operation] = []
