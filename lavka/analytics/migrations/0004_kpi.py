import django.db.models.deletion
from django.db import migrations, models


def _keys() -> list[tuple[str, models.Field]]:
    return [
        (
            "id",
            models.BigAutoField(
                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
            ),
        ),
        ("grain", models.SmallIntegerField()),
        ("owner_id", models.BigIntegerField()),
        ("team_id", models.BigIntegerField()),
        ("tier_id", models.BigIntegerField()),
        ("segment", models.SmallIntegerField()),
    ]


def _run() -> tuple[str, models.Field]:
    return (
        "run",
        models.ForeignKey(
            db_constraint=False,
            on_delete=django.db.models.deletion.CASCADE,
            related_name="+",
            to="analytics.computerun",
        ),
    )


class Migration(migrations.Migration):
    dependencies = [("analytics", "0003_run_reports_and_stage")]

    operations: list[migrations.operations.base.Operation] = [
        migrations.CreateModel(
            name="KpiClients",
            fields=[
                *_keys(),
                ("stage", models.SmallIntegerField()),
                ("abc", models.SmallIntegerField()),
                ("xyz", models.SmallIntegerField()),
                ("clients", models.IntegerField()),
                ("clv_clients", models.IntegerField()),
                ("clv", models.FloatField()),
                ("window_revenue", models.FloatField()),
                _run(),
            ],
            options={"indexes": [models.Index(fields=["run", "grain"], name="kpi_clients_idx")]},
        ),
        migrations.CreateModel(
            name="KpiClv",
            fields=[
                *_keys(),
                ("bin", models.SmallIntegerField()),
                ("clients", models.IntegerField()),
                ("clv", models.FloatField()),
                _run(),
            ],
            options={"indexes": [models.Index(fields=["run", "grain"], name="kpi_clv_idx")]},
        ),
        migrations.CreateModel(
            name="KpiDeals",
            fields=[
                *_keys(),
                ("kind", models.SmallIntegerField()),
                ("month", models.DateField()),
                ("stage_id", models.BigIntegerField(default=0)),
                ("deals", models.IntegerField()),
                ("amount", models.FloatField()),
                ("weighted", models.FloatField(default=0)),
                ("days", models.FloatField(default=0)),
                _run(),
            ],
            options={
                "indexes": [models.Index(fields=["run", "grain", "kind"], name="kpi_deals_idx")]
            },
        ),
        migrations.CreateModel(
            name="KpiMonth",
            fields=[
                *_keys(),
                ("month", models.DateField()),
                ("gap", models.SmallIntegerField()),
                ("clients", models.IntegerField()),
                ("orders", models.IntegerField()),
                ("revenue", models.FloatField()),
                _run(),
            ],
            options={
                "indexes": [models.Index(fields=["run", "grain", "month"], name="kpi_month_idx")]
            },
        ),
    ]
