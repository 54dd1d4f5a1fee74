from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "lavka.analytics"
    label = "analytics"
    verbose_name = _("Analytics")

    def ready(self) -> None:
        from lavka.analytics.models import CostEntry
        from lavka.audit import trash

        trash.register(CostEntry, label=_("Costs"))
