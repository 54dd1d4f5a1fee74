import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0004_kpi"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations: list[migrations.operations.base.Operation] = [
        migrations.AddField(
            model_name="analyticssettings",
            name="contact_hour_cost",
            field=models.DecimalField(decimal_places=2, default=0, max_digits=12),
        ),
        migrations.AddField(
            model_name="analyticssettings",
            name="gross_margin_percent",
            field=models.FloatField(default=30.0),
        ),
        migrations.AddField(
            model_name="analyticssettings",
            name="retention_uplift_points",
            field=models.FloatField(default=5.0),
        ),
        migrations.AddField(
            model_name="analyticssettings",
            name="touch_costs",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.CreateModel(
            name="CostEntry",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, editable=False, verbose_name="created"
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated")),
                ("version", models.PositiveIntegerField(default=1, editable=False)),
                (
                    "month",
                    models.DateField(help_text="The first day of the month.", verbose_name="month"),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[("acquisition", "Acquisition"), ("retention", "Retention")],
                        max_length=16,
                        verbose_name="kind",
                    ),
                ),
                ("channel", models.CharField(blank=True, max_length=100, verbose_name="channel")),
                ("campaign", models.CharField(blank=True, max_length=200, verbose_name="campaign")),
                (
                    "amount",
                    models.DecimalField(decimal_places=2, max_digits=18, verbose_name="amount"),
                ),
                ("currency", models.CharField(max_length=3, verbose_name="currency")),
                ("note", models.TextField(blank=True, verbose_name="note")),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="entered by",
                    ),
                ),
            ],
            options={
                "verbose_name": "cost",
                "verbose_name_plural": "costs",
                "ordering": ["-month", "kind", "channel", "campaign", "id"],
                "indexes": [models.Index(fields=["month", "kind"], name="cost_month_kind_idx")],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("amount__gte", 0)), name="cost_amount_not_negative"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("kind__in", ["acquisition", "retention"])),
                        name="cost_kind_valid",
                    ),
                ],
            },
        ),
    ]
