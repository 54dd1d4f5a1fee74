from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClientsConfig(AppConfig):
    name = "lavka.clients"
    label = "clients"
    verbose_name = _("Clients")

    def ready(self) -> None:
        from lavka.audit import trash
        from lavka.clients.models import Attachment, Client, Contract, Person

        trash.register(Client, label=_("Clients"))
        trash.register(Person, label=_("People"))
        trash.register(Contract, label=_("Contracts"))
        trash.register(Attachment, label=_("Files"))
