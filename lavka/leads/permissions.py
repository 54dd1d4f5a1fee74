"""Who may do what with leads: leads are records of the sales area (as deals are);
web forms are sales settings (the "manage settings" capability changes them, anyone
with sales access reads them)."""

from __future__ import annotations

from typing import Any

from lavka.sales.permissions import (
    can_assign_sales_record,
    can_create_sales_record,
    can_edit_sales_record,
    can_manage_sales_settings,
    can_read_sales,
    can_read_sales_record,
)


def can_create_lead(actor: Any) -> bool:
    return can_create_sales_record(actor)


def can_read_lead(actor: Any, lead: Any) -> bool:
    return can_read_sales_record(actor, lead)


def can_edit_lead(actor: Any, lead: Any) -> bool:
    return can_edit_sales_record(actor, lead)


def can_assign_lead(actor: Any, lead: Any, *, owner: Any) -> bool:
    return can_assign_sales_record(actor, lead, owner=owner)


def can_read_web_forms(actor: Any) -> bool:
    return can_read_sales(actor)


def can_manage_web_forms(actor: Any) -> bool:
    return can_manage_sales_settings(actor)
