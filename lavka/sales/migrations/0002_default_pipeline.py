"""The default pipeline and its stages.

Stage names are data, not translated strings: they are written once, in the server's
language (LAVKA_LANGUAGE: Russian for "ru", English otherwise), and administrators
rename them as they like. The list is frozen here (it matches
lavka.sales.services.pipelines.STAGE_TEMPLATE at the time of writing).
"""

from django.conf import settings
from django.db import migrations

PIPELINE_NAME = {"en": "Sales", "ru": "Продажи"}
STAGES = [
    # English, Russian, type, probability, colour
    ("Qualification", "Квалификация", "open", 10, "neutral"),
    ("Needs analysis", "Выявление потребностей", "open", 20, "neutral"),
    ("Proposal", "Коммерческое предложение", "open", 40, "accent"),
    ("Negotiation", "Переговоры", "open", 60, "accent"),
    ("Contract", "Договор", "open", 80, "warn"),
    ("Won", "Успешно", "won", 100, "good"),
    ("Lost", "Проиграна", "lost", 0, "risk"),
]


def create_default_pipeline(apps, schema_editor):
    Pipeline = apps.get_model("sales", "Pipeline")
    Stage = apps.get_model("sales", "Stage")
    if Pipeline.objects.exists():
        return
    russian = str(getattr(settings, "LANGUAGE_CODE", "en")).lower().startswith("ru")
    pipeline = Pipeline.objects.create(
        name=PIPELINE_NAME["ru" if russian else "en"], is_default=True, order=1
    )
    Stage.objects.bulk_create(
        [
            Stage(
                pipeline=pipeline,
                name=ru if russian else en,
                kind=kind,
                probability=probability,
                colour=colour,
                order=(index + 1) * 10,
            )
            for index, (en, ru, kind, probability, colour) in enumerate(STAGES)
        ]
    )


def remove_default_pipeline(apps, schema_editor):
    Pipeline = apps.get_model("sales", "Pipeline")
    Pipeline.objects.filter(is_default=True, deals__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial")]
    operations = [migrations.RunPython(create_default_pipeline, remove_default_pipeline)]
