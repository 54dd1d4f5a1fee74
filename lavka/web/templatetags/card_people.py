"""The card's inline edit of an address: its form is on the card only when its save
failed (otherwise it loads when the edit opens, card:form)."""

from __future__ import annotations

from typing import Any

from django import template
from django.forms import Form

from lavka.clients.models import Address

register = template.Library()


@register.simple_tag
def address_failed_form(address: Address, failed: Any = None) -> Form | str:
    """The address's edit form if it is the one that just failed, else "" (the card
    then loads the form when its disclosure opens)."""
    if isinstance(failed, Form) and failed.prefix == f"a{address.pk}":
        return failed
    return ""
