from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "lavka.core"
    label = "core"
    verbose_name = "Core"
