"""The default decision cycle (Tool 1) and its playbook (Tool 4).

Stage names and actions are data, not translated strings: they are written once, in
the server's language (LAVKA_LANGUAGE: Russian for "ru", English otherwise), and
administrators edit them as they like. The list is frozen here (it matches
lavka.keyaccounts.services.stages.STAGE_TEMPLATE at the time of writing).
"""

from django.conf import settings
from django.db import migrations

# English, Russian, [(English action, Russian action, kind, due in days)]
STAGES = [
    (
        "Need recognised",
        "Осознание потребности",
        [
            ("Meet the entry point and learn how they decide", "Встретиться с точкой входа и узнать, как принимают решения", "meeting", 7),
            ("Find the dissatisfaction point and what hurts", "Найти точку неудовлетворённости и выяснить, что не устраивает", "call", 10),
        ],
    ),
    (
        "Options explored",
        "Изучение вариантов",
        [
            ("Send case studies that match their problem", "Отправить примеры решений похожих задач", "email", 5),
            ("Get an introduction to the power point", "Получить знакомство с точкой власти", "meeting", 14),
        ],
    ),
    (
        "Options evaluated",
        "Оценка вариантов",
        [
            ("Present the proposal to the power point", "Представить предложение точке власти", "meeting", 10),
            ("Agree the evaluation criteria", "Согласовать критерии выбора", "call", 7),
        ],
    ),
    (
        "Risks and objections",
        "Риски и возражения",
        [
            ("Answer each objection in writing", "Письменно ответить на каждое возражение", "email", 5),
            ("Offer a pilot or references", "Предложить пилотный проект или отзывы клиентов", "call", 7),
        ],
    ),
    (
        "Decision",
        "Принятие решения",
        [
            ("Confirm the decision date with the power point", "Уточнить у точки власти дату решения", "call", 3),
        ],
    ),
    (
        "Implementation",
        "Внедрение",
        [
            ("Agree the implementation plan and contacts", "Согласовать план внедрения и контактных лиц", "meeting", 7),
            ("Check satisfaction after the first month", "Узнать об удовлетворённости через месяц", "call", 30),
        ],
    ),
]


def create_default_cycle(apps, schema_editor):
    DecisionStage = apps.get_model("keyaccounts", "DecisionStage")
    PlaybookAction = apps.get_model("keyaccounts", "PlaybookAction")
    if DecisionStage.objects.exists():
        return
    russian = str(getattr(settings, "LANGUAGE_CODE", "en")).lower().startswith("ru")
    for index, (en, ru, actions) in enumerate(STAGES):
        stage = DecisionStage.objects.create(name=ru if russian else en, order=(index + 1) * 10)
        PlaybookAction.objects.bulk_create(
            [
                PlaybookAction(
                    stage=stage,
                    title=a_ru if russian else a_en,
                    kind=kind,
                    due_in_days=days,
                    order=(i + 1) * 10,
                )
                for i, (a_en, a_ru, kind, days) in enumerate(actions)
            ]
        )


def remove_default_cycle(apps, schema_editor):
    DecisionStage = apps.get_model("keyaccounts", "DecisionStage")
    PlaybookAction = apps.get_model("keyaccounts", "PlaybookAction")
    used = DecisionStage.objects.filter(key_accounts__isnull=False)
    PlaybookAction.objects.exclude(stage__in=used).delete()
    DecisionStage.objects.exclude(pk__in=used).delete()


class Migration(migrations.Migration):
    dependencies = [("keyaccounts", "0001_initial")]
    operations = [migrations.RunPython(create_default_cycle, remove_default_cycle)]
