"""Forms of the card's inline edits that the card page itself does not build: the edit
form of each address and the "link an existing person" form."""

from __future__ import annotations

from typing import Any

from django import template
from django.forms import Form

from lavka.clients.models import Address, Client
from lavka.web.views import card_people

register = template.Library()


@register.simple_tag
def address_edit_form(address: Address, failed: Any = None) -> Form:
    """The address's edit form; `failed` is the form that just failed, if any."""
    return card_people.address_edit_form(address, failed if isinstance(failed, Form) else None)


@register.simple_tag
def link_person_form(client: Client, failed: Any = None) -> Form:
    """The link form of the card; `failed` is the form that just failed, if any."""
    return card_people.link_person_form(client, failed if isinstance(failed, Form) else None)
