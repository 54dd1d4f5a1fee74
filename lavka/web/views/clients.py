"""Client pages: list, card, create, edit, delete, export."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lavka.audit.selectors import audit_events_for_record
from lavka.clients.exports import client_export_start
from lavka.clients.models import Client
from lavka.clients.permissions import can_create_client, can_edit_client
from lavka.clients.selectors import client_get, client_list
from lavka.clients.services import client_create, client_delete, client_update
from lavka.core.errors import DomainError
from lavka.web.errors import form_errors_from
from lavka.web.forms import ClientForm
from lavka.web.requests import AuthedRequest

PAGE_SIZE = 50


@login_required
def list_clients(request: AuthedRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    kind = request.GET.get("kind", "")
    ordering = request.GET.get("sort", "name")
    clients = client_list(viewer=request.user, query=query, kind=kind, ordering=ordering)
    page = Paginator(clients, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "query": query,
        "kind": kind,
        "sort": ordering,
        "kinds": Client.Kind.choices,
        "can_create": can_create_client(request.user),
    }
    template = "web/clients/_rows.html" if request.htmx else "web/clients/list.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@login_required
def show_client(request: AuthedRequest, client_id: int) -> HttpResponse:
    client = client_get(viewer=request.user, client_id=client_id)
    history = audit_events_for_record(viewer=request.user, record=client)[:30]
    return render(
        request,
        "web/clients/detail.html",
        {
            "client": client,
            "can_edit": can_edit_client(request.user, client),
            "history": history,
        },
    )


@login_required
def create_client(request: AuthedRequest) -> HttpResponse:
    form = ClientForm(request.POST or None, initial={"kind": Client.Kind.ORGANISATION})
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        try:
            client = client_create(actor=request.user, **data)
        except DomainError as exc:
            form_errors_from(form, exc)
        else:
            messages.success(
                request, _("Client “%(name)s” has been created.") % {"name": client.name}
            )
            return redirect("clients:show", client_id=client.pk)
    return render(
        request,
        "web/clients/form.html",
        {"form": form, "client": None},
        status=422 if form.errors else 200,
    )


@login_required
def edit_client(request: AuthedRequest, client_id: int) -> HttpResponse:
    client = client_get(viewer=request.user, client_id=client_id)
    initial = {f: getattr(client, f) for f in ("kind", "name", "email", "phone", "city", "notes")}
    form = ClientForm(request.POST or None, initial={**initial, "version": client.version})
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        try:
            client_update(
                actor=request.user,
                client=client,
                expected_version=form.cleaned_data.get("version"),
                **data,
            )
        except DomainError as exc:
            if exc.http_status in (403, 404):
                raise
            form_errors_from(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("clients:show", client_id=client.pk)
    return render(
        request,
        "web/clients/form.html",
        {"form": form, "client": client},
        status=422 if form.errors else 200,
    )


@login_required
@require_POST
def delete_client(request: AuthedRequest, client_id: int) -> HttpResponse:
    client = client_get(viewer=request.user, client_id=client_id)
    client_delete(actor=request.user, client=client)
    messages.success(
        request, _("Client “%(name)s” has been moved to the trash.") % {"name": client.name}
    )
    return redirect("clients:list")


@login_required
@require_POST
def export_clients(request: AuthedRequest) -> HttpResponse:
    job = client_export_start(actor=request.user, query=request.POST.get("q", ""))
    return redirect("jobs:show", job_id=job.pk)
