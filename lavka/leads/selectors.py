"""Reads of leads and web forms. Every lead read starts from `leads_visible_to`."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from lavka.clients.identifiers import folded
from lavka.clients.services.duplicates import Match, duplicates_for
from lavka.core.errors import NotFound
from lavka.identity.access import Action, Area, scope_queryset
from lavka.leads.models import Lead, WebForm
from lavka.leads.permissions import can_read_web_forms


def leads_visible_to(viewer: Any) -> QuerySet[Lead]:
    """Every live lead `viewer` may read: the sales area's read scope by the lead's
    owner and team (a rep their own, a manager their team's and below)."""
    return scope_queryset(Lead.objects.all(), viewer, Area.SALES, Action.READ)


def lead_get(*, viewer: Any, lead_id: Any) -> Lead:
    """One lead the viewer may read; NotFound whether it is missing or not theirs."""
    try:
        return (
            leads_visible_to(viewer)
            .select_related("owner", "team", "web_form", "client", "person", "deal")
            .get(pk=lead_id)
        )
    except (Lead.DoesNotExist, ValueError, TypeError):
        raise NotFound(resource="lead", id=lead_id) from None


def lead_list(
    *,
    viewer: Any,
    status: str = "",
    source: str = "",
    owner_id: int | None = None,
    web_form_id: int | None = None,
    query: str = "",
) -> QuerySet[Lead]:
    """The leads list, newest first. `status` "open" means new, in work or qualified."""
    leads = leads_visible_to(viewer).select_related("owner")
    if status == "open":
        leads = leads.filter(
            status__in=[Lead.Status.NEW, Lead.Status.IN_WORK, Lead.Status.QUALIFIED]
        )
    elif status in Lead.Status.values:
        leads = leads.filter(status=status)
    if source in Lead.Source.values:
        leads = leads.filter(source=source)
    if owner_id is not None:
        leads = leads.filter(owner_id=owner_id)
    if web_form_id is not None:
        leads = leads.filter(web_form_id=web_form_id)
    for word in folded(query).split()[:6]:
        leads = leads.filter(search_text__contains=word.lstrip("+"))
    return leads.order_by("-created_at", "-id")


def lead_status_counts(*, viewer: Any) -> dict[str, int]:
    """How many leads the viewer sees in each status (one query)."""
    rows = leads_visible_to(viewer).values("status").annotate(n=Count("id")).order_by()
    return {row["status"]: row["n"] for row in rows}


def lead_duplicates(*, viewer: Any, lead: Lead, limit: int = 5) -> list[Match]:
    """Existing clients the viewer can see that look like the lead's company (or, for a
    lead without a company, its person): same email, phone or INN, or a similar name."""
    return duplicates_for(
        fields={
            "name": lead.company or lead.contact_name,
            "email": lead.email,
            "phone": lead.phone,
            "inn": lead.inn,
        },
        viewer=viewer,
        limit=limit,
    )


def web_forms_visible_to(viewer: Any) -> QuerySet[WebForm]:
    if not can_read_web_forms(viewer):
        return WebForm.objects.none()
    return WebForm.objects.select_related("owner", "team").annotate(
        lead_count=Count("leads", filter=Q(leads__deleted_at__isnull=True))
    )


def web_form_get(*, viewer: Any, form_id: Any) -> WebForm:
    try:
        return web_forms_visible_to(viewer).get(pk=form_id)
    except (WebForm.DoesNotExist, ValueError, TypeError):
        raise NotFound(resource="web_form", id=form_id) from None


def web_form_public(*, key: str) -> WebForm:
    """The active form with this public key, for the no-login endpoints; NotFound for
    an unknown or switched-off form."""
    form = (
        WebForm.objects.select_related("owner").filter(key=key, is_active=True).first()
        if key and len(key) <= 48
        else None
    )
    if form is None:
        raise NotFound(resource="web_form", id=key)
    return form
