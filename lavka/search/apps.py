from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    name = "lavka.search"
    label = "search"
    verbose_name = _("Search")

    def ready(self) -> None:
        from lavka.audit import outbox

        # Duplicates are looked for after every create and every edit of what
        # identifies a client (name, email, phone, INN).
        outbox.subscribe("client.created", "lavka.clients.services.duplicates.on_client_saved")
        outbox.subscribe("client.updated", "lavka.clients.services.duplicates.on_client_saved")
