from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "lavka.leads"
    label = "leads"
    verbose_name = _("Leads")

    def ready(self) -> None:
        from lavka.audit import trash
        from lavka.clients.services.merge import merge_movable_register
        from lavka.imports.targets import import_target_register
        from lavka.leads.models import Lead
        from lavka.leads.services.importing import LEADS_IMPORT

        trash.register(Lead, label=_("Leads"))
        # A converted lead follows its client into a merge (and back on undo).
        merge_movable_register("leads", Lead.all_objects, "client")
        # Lead files go through the import engine (upload, mapping, dry run, jobs).
        import_target_register(LEADS_IMPORT)
