"""Writes of the leads area: leads by hand, the public capture, conversion, web forms."""

from lavka.leads.services.capture import Capture, lead_capture
from lavka.leads.services.conversion import Conversion, lead_convert
from lavka.leads.services.forms import web_form_create, web_form_update
from lavka.leads.services.leads import (
    lead_assign,
    lead_create,
    lead_delete,
    lead_status_set,
    lead_update,
)

__all__ = [
    "Capture",
    "Conversion",
    "lead_assign",
    "lead_capture",
    "lead_convert",
    "lead_create",
    "lead_delete",
    "lead_status_set",
    "lead_update",
    "web_form_create",
    "web_form_update",
]
