import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0005_costs"),
        ("clients", "0006_client_name_index"),
        ("sales", "0003_deal_column_totals"),
    ]

    operations: list[migrations.operations.base.Operation] = [
        migrations.CreateModel(
            name="ClientInsight",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "run_id",
                        "client_id",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("due_on", models.DateField(null=True)),
                ("next_purchase_on", models.DateField(null=True)),
                ("category_due_on", models.DateField(null=True)),
                ("cycle_days", models.FloatField(null=True)),
                ("category_purchases", models.IntegerField(default=0)),
                ("category_last_on", models.DateField(null=True)),
                ("offer_score", models.FloatField(null=True)),
                ("offer_share", models.FloatField(null=True)),
                ("last_on", models.DateField()),
                ("clv", models.FloatField(null=True)),
                ("leave_probability", models.FloatField(null=True)),
                (
                    "because",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="sales.product",
                    ),
                ),
                (
                    "client",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="clients.client",
                    ),
                ),
                (
                    "due_category",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="sales.productcategory",
                    ),
                ),
                (
                    "product",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="sales.product",
                    ),
                ),
                (
                    "run",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="analytics.computerun",
                    ),
                ),
            ],
            options={
                "verbose_name": "client insight",
                "verbose_name_plural": "client insights",
                "indexes": [models.Index(fields=["run", "due_on"], name="insight_run_due_idx")],
            },
        ),
    ]
