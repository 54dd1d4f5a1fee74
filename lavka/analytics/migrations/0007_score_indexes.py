from django.db import migrations, models


class Migration(migrations.Migration):
    """Indexes for the client list filtered or sorted by a score (ClientScore.Meta)."""

    dependencies = [("analytics", "0006_insights")]

    operations = [
        migrations.AddIndex(
            model_name="clientscore",
            index=models.Index(fields=["run", "abc", "xyz", "clv"], name="score_run_abc_xyz_clv"),
        ),
    ]
