"""Web views: duplicate pairs, the side-by-side merge, undo, the combined history
of a client, and bulk actions on the client list."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from lavka.clients.exports import neutralise
from lavka.clients.identifiers import phone_display
from lavka.clients.models import Client
from lavka.clients.permissions import can_create_client, can_edit_client
from lavka.clients.selectors import client_get, client_list
from lavka.clients.selectors.duplicates import (
    client_history,
    duplicate_get,
    duplicate_list,
    merge_get,
    merges_for_client,
)
from lavka.clients.selectors.lists import saved_view_get
from lavka.clients.services.duplicates import duplicate_dismiss, duplicates_for
from lavka.clients.services.lists import (
    BULK_ACTIONS,
    BULK_MAX,
    clients_bulk_apply,
    saved_view_delete,
)
from lavka.clients.services.merge import MERGE_FIELDS, client_merge, client_merge_undo
from lavka.core.errors import DomainError
from lavka.search.services import duplicates_scan_start
from lavka.web.requests import AuthedRequest

SHOWN_FIELDS = [
    "kind",
    "name",
    "legal_name",
    "email",
    "phone",
    "website",
    "inn",
    "kpp",
    "ogrn",
    "vat",
    "city",
    "industry",
    "size",
    "annual_revenue",
    "currency",
    "payment_terms_days",
    "price_list",
    "discount_percent",
    "credit_limit",
    "bank_name",
    "bank_bic",
    "bank_account",
    "external_id",
    "source",
    "tier",
    "owner",
    "parent",
    "notes",
]


@login_required
def list_duplicates(request: AuthedRequest) -> HttpResponse:
    pairs = duplicate_list(viewer=request.user)
    page = Paginator(pairs, 30).get_page(request.GET.get("page"))
    for pair in page.object_list:
        pair.can_edit = can_edit_client(request.user, pair.a) and can_edit_client(  # type: ignore[attr-defined]
            request.user, pair.b
        )
    return render(
        request,
        "web/duplicates/list.html",
        {
            "page": page,
            "can_scan": can_create_client(request.user),
            "reason_labels": _reason_labels(),
        },
    )


def _reason_labels() -> dict[str, str]:
    return {
        "email": _("same email"),
        "phone": _("same phone"),
        "inn": _("same INN"),
        "name": _("similar name"),
    }


@login_required
def check_duplicates(request: AuthedRequest) -> HttpResponse:
    """The create form's "this client may already exist" warning (htmx fragment)."""
    fields = {k: request.GET.get(k, "") for k in ("name", "email", "phone", "inn")}
    matches = (
        duplicates_for(fields=fields, viewer=request.user, limit=5) if any(fields.values()) else []
    )
    return render(
        request,
        "web/duplicates/_warning.html",
        {"matches": matches, "reason_labels": _reason_labels()},
    )


@login_required
@require_POST
def scan_duplicates(request: AuthedRequest) -> HttpResponse:
    job = duplicates_scan_start(actor=request.user)
    messages.success(request, _("Looking for duplicates in the background."))
    return redirect("jobs:show", job_id=job.pk)


@login_required
@require_POST
def dismiss_duplicate(request: AuthedRequest, candidate_id: int) -> HttpResponse:
    candidate = duplicate_get(viewer=request.user, candidate_id=candidate_id)
    duplicate_dismiss(actor=request.user, candidate=candidate)
    messages.success(
        request,
        _("Marked as not a duplicate: “%(a)s” and “%(b)s”.")
        % {"a": candidate.a.name, "b": candidate.b.name},
    )
    return redirect("duplicates")


def _display(client: Client, name: str) -> str:
    if name == "phone":
        return phone_display(client.phone)
    if name in ("tier", "owner", "parent"):
        related = getattr(client, name)
        return str(related) if related is not None else ""
    field = client._meta.get_field(name)
    if getattr(field, "choices", None):
        return str(getattr(client, f"get_{name}_display")())
    value = getattr(client, name)
    return "" if value is None else str(value)


@login_required
def merge_clients(request: AuthedRequest, client_id: int, other_id: int) -> HttpResponse:
    """Both clients side by side; the user picks the survivor and each field."""
    first = client_get(viewer=request.user, client_id=client_id)
    second = client_get(viewer=request.user, client_id=other_id)
    if request.method == "POST":
        keep_second = request.POST.get("survivor") == str(second.pk)
        survivor, merged = (second, first) if keep_second else (first, second)
        choices: dict[str, str] = {}
        for name in MERGE_FIELDS:
            picked = request.POST.get(f"field_{name}")
            if picked:
                choices[name] = "merged" if picked == str(merged.pk) else "survivor"
        try:
            merge = client_merge(
                actor=request.user, survivor=survivor, merged=merged, choices=choices
            )
        except DomainError as exc:
            if exc.http_status in (403, 404):
                raise
            messages.error(request, exc.detail)
        else:
            messages.success(
                request,
                _("“%(merged)s” has been merged into “%(survivor)s”.")
                % {"merged": merged.name, "survivor": survivor.name},
            )
            return redirect("client_history", client_id=merge.survivor_id)
    rows = []
    for name in SHOWN_FIELDS:
        left, right = _display(first, name), _display(second, name)
        if left or right:
            rows.append(
                {
                    "name": name,
                    "label": getattr(Client._meta.get_field(name), "verbose_name", name),
                    "left": left,
                    "right": right,
                    "differs": left != right,
                    "default": first.pk if left or not right else second.pk,
                }
            )
    counts = {
        c.pk: {
            "touchpoints": c.touchpoints.count(),
            "contracts": c.contracts.count(),
            "tasks": c.tasks.count(),
            "attachments": c.attachments.count(),
        }
        for c in (first, second)
    }
    return render(
        request,
        "web/duplicates/merge.html",
        {
            "first": first,
            "second": second,
            "rows": rows,
            "counts": counts,
            "can_merge": can_edit_client(request.user, first)
            and can_edit_client(request.user, second),
        },
    )


@login_required
@require_POST
def undo_merge(request: AuthedRequest, merge_id: int) -> HttpResponse:
    merge = merge_get(viewer=request.user, merge_id=merge_id)
    try:
        client_merge_undo(actor=request.user, merge=merge)
    except DomainError as exc:
        if exc.http_status in (403, 404):
            raise
        messages.error(request, exc.detail)
    else:
        messages.success(
            request,
            _("The merge has been undone: “%(name)s” is back.") % {"name": merge.merged.name},
        )
    back = request.POST.get("next", "")
    if back.startswith("/") and not back.startswith("//"):
        return redirect(back)
    return redirect("client_history", client_id=merge.survivor_id)


@login_required
def show_client_history(request: AuthedRequest, client_id: int) -> HttpResponse:
    """The client's history including every client merged into it."""
    client = client_get(viewer=request.user, client_id=client_id)
    events = client_history(viewer=request.user, client=client)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    merges = list(merges_for_client(viewer=request.user, client_id=client.pk))
    return render(
        request,
        "web/duplicates/history.html",
        {
            "client": client,
            "page": page,
            "merges": merges,
            "can_edit": can_edit_client(request.user, client),
        },
    )


@login_required
@require_POST
def bulk_clients(request: AuthedRequest) -> HttpResponse:
    """One POST from the client list: an action on the selected rows."""
    action = request.POST.get("action", "")
    ids = [int(pk) for pk in request.POST.getlist("ids") if pk.isdigit()]
    back = request.POST.get("next", "")
    if not back.startswith("/") or back.startswith("//"):
        back = "clients:list"
    if action not in BULK_ACTIONS or not ids:
        messages.error(request, _("Select some clients and an action."))
        return redirect(back)
    if action == "export":
        return _export_selected(request, ids)
    value: Any = request.POST.get(f"value_{action}", "")
    try:
        result = clients_bulk_apply(actor=request.user, action=action, ids=ids, value=value)
    except DomainError as exc:
        messages.error(request, exc.detail)
        return redirect(back)
    done = ngettext("%(count)d client changed.", "%(count)d clients changed.", result.done) % {
        "count": result.done
    }
    if result.refused:
        done += " " + ngettext(
            "%(count)d was left as it was: you may not change it.",
            "%(count)d were left as they were: you may not change them.",
            result.refused,
        ) % {"count": result.refused}
    (messages.warning if result.refused else messages.success)(request, done)
    return redirect(back)


def _export_selected(request: AuthedRequest, ids: list[int]) -> HttpResponse:
    """The selected rows (a page at most) as CSV, neutralised against formulas."""
    clients = client_list(viewer=request.user, ids=ids[:BULK_MAX])
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="clients-selected.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(["id", "kind", "name", "email", "phone", "city", "owner", "team", "created_at"])
    for client in clients:
        writer.writerow(
            [
                neutralise(v)
                for v in (
                    client.pk,
                    client.kind,
                    client.name,
                    client.email,
                    client.phone,
                    client.city,
                    client.owner.get_username(),
                    client.team.name if client.team else "",
                    client.created_at.isoformat(),
                )
            ]
        )
    return response


@login_required
@require_POST
def delete_saved_view(request: AuthedRequest, view_id: int) -> HttpResponse:
    view = saved_view_get(viewer=request.user, view_id=view_id)
    saved_view_delete(actor=request.user, view=view)
    messages.success(
        request, _("The saved view “%(name)s” has been deleted.") % {"name": view.name}
    )
    return redirect("clients:list")


urlpatterns: list[Any] = [
    path("duplicates/", list_duplicates, name="duplicates"),
    path("duplicates/scan/", scan_duplicates, name="duplicates_scan"),
    path("duplicates/check/", check_duplicates, name="clients_duplicates_check"),
    path("duplicates/<int:candidate_id>/dismiss/", dismiss_duplicate, name="duplicate_dismiss"),
    path("clients/<int:client_id>/merge/<int:other_id>/", merge_clients, name="clients_merge"),
    path("clients/<int:client_id>/history/", show_client_history, name="client_history"),
    path("clients/bulk/", bulk_clients, name="clients_bulk"),
    path("clients/views/<int:view_id>/delete/", delete_saved_view, name="saved_view_delete"),
    path("merges/<int:merge_id>/undo/", undo_merge, name="merge_undo"),
]
