from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "lavka.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        from lavka.audit import trash
        from lavka.clients.services.merge import merge_movable_register
        from lavka.sales.models import Deal, Order

        trash.register(Deal, label=_("Deals"))
        trash.register(Order, label=_("Orders"))
        # A merged client's deals and orders follow it to the survivor; undo brings
        # them back (clients cannot import sales, so sales registers itself here).
        merge_movable_register("deals", Deal.all_objects, "client")
        merge_movable_register("orders", Order.all_objects, "client")
