"""Web views of the client card's blocks: address, contact, commercial, contractual,
personal details, people, files and the tier; plus the settings pages for custom
fields and tiers. Each POST calls one service and, under htmx, answers with the
re-rendered blocks (one swap); without JavaScript it redirects back to the card."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import F, Q, Sum
from django.forms import Form, ModelChoiceField
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.template import engines
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from lavka.clients.models import Client, CustomField, Tier
from lavka.clients.permissions import can_edit_client
from lavka.clients.selectors import client_get
from lavka.clients.selectors.blocks import (
    ClientCard,
    address_get,
    attachment_get,
    client_card,
    contact_point_get,
    contract_get,
    custom_fields_list,
    important_date_days_left,
    important_date_get,
)
from lavka.clients.selectors.timeline import client_contact_status
from lavka.clients.services import client_update
from lavka.clients.services.blocks import (
    address_add,
    address_remove,
    attachment_add,
    consent_record,
    contact_point_add,
    contact_point_remove,
    contract_create,
    contract_update,
    custom_field_create,
    custom_field_update,
    important_date_add,
    important_date_remove,
    person_create,
    tier_create,
    tier_update,
)
from lavka.core.errors import NotFound, NotPermitted
from lavka.identity.access import Capability, has_capability
from lavka.web.errors import form_attempt
from lavka.web.forms import (
    AddressForm,
    AttachmentForm,
    ConsentForm,
    ContactPointForm,
    ContractForm,
    CustomFieldForm,
    CustomValuesForm,
    ImportantDateForm,
    PersonForm,
    TierChangeForm,
    TierForm,
)
from lavka.web.renderers import NotPlain, frozen
from lavka.web.requests import AuthedRequest
from lavka.web.views.timeline import TaskForm, TouchpointForm

CONTRACT_FORM_FIELDS = [
    "number",
    "subject",
    "start_on",
    "end_on",
    "amount",
    "currency",
    "status",
    "renewal",
]
FORMS: dict[str, tuple[type[Form], str]] = {
    "contact_form": (ContactPointForm, "cp"),
    "address_form": (AddressForm, "addr"),
    "consent_form": (ConsentForm, "consent"),
    "contract_form": (ContractForm, "contract"),
    "person_form": (PersonForm, "person"),
    "date_form": (ImportantDateForm, "date"),
    "tier_form": (TierChangeForm, "tier"),
}


# Forms whose fields are the same for every client: no choices read from the
# database, nothing computed at render time. Unbound, their fields' HTML (as the card's
# templates render it, web/_field.html per field) depends only on the form, its
# prefix and initial values, and the language: it is rendered once per process and
# handed to the templates as `form.fields_html`. That was a third of the card's time.
_STATIC_FORMS = (
    ContactPointForm,
    AddressForm,
    ConsentForm,
    ContractForm,
    PersonForm,
    ImportantDateForm,
    TouchpointForm,  # without its person field (a client with contact persons)
)
_FIELDS_HTML: dict[Any, Any] = {}
_FIELDS_HTML_MAX = 2000


def _remember_fields_html(form: Form) -> Form:
    if form.is_bound or type(form) not in _STATIC_FORMS:
        return form
    try:
        key = (
            type(form),
            form.prefix,
            form.auto_id,
            translation.get_language(),
            frozen(dict(form.initial)),
        )
    except NotPlain:
        return form
    html = _FIELDS_HTML.get(key)
    if html is None:
        template = engines["django"].from_string(
            '{% for field in form %}{% include "web/_field.html" %}{% endfor %}'
        )
        html = template.render({"form": form})
        if len(_FIELDS_HTML) >= _FIELDS_HTML_MAX:
            _FIELDS_HTML.clear()
        _FIELDS_HTML[key] = html
    form.fields_html = html  # type: ignore[attr-defined]
    return form


def remember_each_field_html(form: Form) -> Form:
    """Like _remember_fields_html, for a template that places the fields one by one
    (`{% field_html form "name" %}`): `form.field_html` maps each field's name to its
    HTML. Not for a form with a choice of database rows (such as the touchpoint
    form's contact person)."""
    if (
        form.is_bound
        or type(form) not in _STATIC_FORMS
        or any(isinstance(f, ModelChoiceField) for f in form.fields.values())
    ):
        return form
    try:
        key = (
            "each",
            type(form),
            tuple(form.fields),
            form.prefix,
            form.auto_id,
            translation.get_language(),
            frozen(dict(form.initial)),
        )
    except NotPlain:
        return form
    html = _FIELDS_HTML.get(key)
    if html is None:
        template = engines["django"].get_template("web/_field.html")
        html = {name: template.render({"field": form[name]}) for name in form.fields}
        if len(_FIELDS_HTML) >= _FIELDS_HTML_MAX:
            _FIELDS_HTML.clear()
        _FIELDS_HTML[key] = html
    form.field_html = html  # type: ignore[attr-defined]
    return form


def card_context(
    viewer: Any, client: Any, *, card: ClientCard | None = None, **bound: Any
) -> dict[str, Any]:
    """Extra context for the client card: the four blocks, people, contracts, files,
    personal details and the tier history, in a fixed number of queries (none when
    the caller has loaded `card` already). The blocks' edit forms are not built here:
    each loads when its disclosure opens (`card_form`). `bound` holds a form that
    failed validation, to show again in place, open, with its errors."""
    if card is None:
        card = client_card(viewer=viewer, client_id=client.pk)
    can_edit = can_edit_client(viewer, card.client)
    context: dict[str, Any] = {
        "client": card.client,
        "card": card,
        "can_edit": can_edit,
        "contact_status": client_contact_status(card.client),
        "open_form": bound.pop("open_form", ""),
        "card_status": bound.pop("card_status", ""),
    }
    for date in card.important_dates:
        date.days_left = important_date_days_left(date)  # type: ignore[attr-defined]
    if can_edit:
        for name in (*FORMS, "file_form", "custom_form"):
            context[name] = bound.get(name)
        failed_edit = bound.get("contract_edit_form")
        for contract in card.contracts:
            contract.edit_open = context["open_form"] == f"contract-{contract.pk}"  # type: ignore[attr-defined]
            failed = failed_edit is not None and failed_edit.prefix == f"c{contract.pk}"
            contract.edit_form = failed_edit if failed else None  # type: ignore[attr-defined]
    return context


def _fresh_form(name: str, card: ClientCard) -> Form:
    """A new (unbound) add form of the card's blocks, by its context name."""
    client = card.client
    if name == "tier_form":
        return TierChangeForm(prefix="tier", initial={"tier": client.tier_id})
    if name == "contract_form":
        return _remember_fields_html(
            ContractForm(prefix="contract", initial={"currency": client.currency})
        )
    if name == "file_form":
        return AttachmentForm(prefix="file", contracts=card.contracts)
    if name == "custom_form":
        return CustomValuesForm(
            prefix="custom",
            fields=[v.field for v in card.custom_values],
            initial={v.field.key: v.value for v in card.custom_values},
        )
    form_class, prefix = FORMS[name]
    return _remember_fields_html(form_class(prefix=prefix))


def _contract_edit_form(contract: Any) -> Form:
    return _remember_fields_html(
        ContractForm(
            prefix=f"c{contract.pk}",
            initial={
                **{f: getattr(contract, f) for f in CONTRACT_FORM_FIELDS},
                "version": contract.version,
            },
        )
    )


# The card's add forms that load when their disclosure opens: name in the URL ->
# (context name, URL name of the form's POST, multipart).
ADD_FORMS: dict[str, tuple[str, str, bool]] = {
    "address": ("address_form", "card:add_address", False),
    "contact": ("contact_form", "card:add_contact", False),
    "consent": ("consent_form", "card:record_consent", False),
    "contract": ("contract_form", "card:add_contract", False),
    "person": ("person_form", "card:add_person", False),
    "date": ("date_form", "card:add_date", False),
    "tier": ("tier_form", "card:change_tier", False),
    "file": ("file_form", "card:upload_file", True),
    "custom": ("custom_form", "card:set_custom", False),
}


@login_required
@require_GET
def card_form(
    request: AuthedRequest, client_id: int, name: str, item_id: int | None = None
) -> HttpResponse:
    """One edit form of the card, loaded by htmx when its disclosure opens: the card
    itself carries none of them (building and rendering every form of every block
    was half of the card's time). 404 for a client the viewer cannot see, 403 for
    one they cannot edit."""
    from lavka.web.views import card_people

    card = client_card(viewer=request.user, client_id=client_id)
    client = card.client
    if not can_edit_client(request.user, client):
        raise NotPermitted(action="edit", resource="client")
    context: dict[str, Any] = {"client": client}
    if item_id is None and name in ADD_FORMS:
        form_name, url_name, multipart = ADD_FORMS[name]
        if name == "custom" and not card.custom_values:
            raise NotFound(resource="form", id=name)
        context.update(
            form=_fresh_form(form_name, card),
            name=name,
            url=reverse(url_name, args=[client.pk]),
            multipart=multipart,
        )
        template = "web/clients/card/_add_form.html"
    elif item_id is None and name == "link" and client.kind == Client.Kind.ORGANISATION:
        context["form"] = card_people.link_person_form(client)
        template = "web/clients/card/_link_person_form.html"
    elif item_id is None and name == "plan":
        context.update(
            timeline_client=client,
            task_form=TaskForm(client=client, viewer=request.user, auto_id="task_%s"),
        )
        template = "web/clients/card/_plan_form.html"
    elif name == "address" and item_id is not None:
        address = next((a for a in card.addresses if a.pk == item_id), None)
        if address is None:
            raise NotFound(resource="address", id=item_id)
        context.update(address=address, form=card_people.address_edit_form(address))
        template = "web/clients/card/_edit_address_form.html"
    elif name == "contract" and item_id is not None:
        contract = next((c for c in card.contracts if c.pk == item_id), None)
        if contract is None:
            raise NotFound(resource="contract", id=item_id)
        context.update(contract=contract, form=_contract_edit_form(contract))
        template = "web/clients/card/_edit_contract_form.html"
    else:
        raise NotFound(resource="form", id=name)
    return render(request, template, context)


def _answer(request: AuthedRequest, client: Client, *, ok: str = "", **bound: Any) -> HttpResponse:
    failed = any(isinstance(v, Form) for v in bound.values())
    if request.htmx:  # type: ignore[attr-defined]
        context = card_context(request.user, client, card_status=ok, **bound)
        context["card_partial"] = True
        return render(
            request, "web/clients/card/_blocks.html", context, status=422 if failed else 200
        )
    if failed:
        for form in bound.values():
            if isinstance(form, Form):
                for errors in form.errors.values():
                    for error in errors:
                        messages.error(request, str(error))
    elif ok:
        messages.success(request, ok)
    return redirect("clients:show", client_id=client.pk)


def _adder(
    form_class: type[Form],
    prefix: str,
    add: Any,
    ok: Any,
    form_key: str,
    open_form: str,
    *,
    client_argument: str = "client",
) -> Any:
    """A view that adds one item to a card block: bind `form_class` under `prefix`,
    call the service `add(actor=, <client_argument>=client, **cleaned_data)`, answer
    with the card (the form again with its errors, open, when it fails)."""

    @login_required
    @require_POST
    def view(request: AuthedRequest, client_id: int) -> HttpResponse:
        client = client_get(viewer=request.user, client_id=client_id)
        form = form_class(request.POST, prefix=prefix)
        if form.is_valid() and form_attempt(
            form,
            lambda: add(actor=request.user, **{client_argument: client}, **form.cleaned_data),
        ):
            return _answer(request, client, ok=str(ok))
        bound: dict[str, Any] = {form_key: form, "open_form": open_form}
        return _answer(request, client, **bound)

    return view


def _remover(get: Any, remove: Any, item_argument: str, ok: Any) -> Any:
    """A view that removes one item of a card block: `get(viewer=, client_id=, <id>=)`
    (scoped to the viewer), then the service `remove(actor=, <item_argument>=item)`."""

    @login_required
    @require_POST
    def view(request: AuthedRequest, client_id: int, **item_id: int) -> HttpResponse:
        item = get(viewer=request.user, client_id=client_id, **item_id)
        remove(actor=request.user, **{item_argument: item})
        return _answer(request, client_get(viewer=request.user, client_id=client_id), ok=str(ok))

    return view


add_contact_point = _adder(
    ContactPointForm,
    "cp",
    contact_point_add,
    gettext_lazy("Contact added."),
    "contact_form",
    "contact",
)
remove_contact_point = _remover(
    contact_point_get, contact_point_remove, "point", gettext_lazy("Contact removed.")
)
add_address = _adder(
    AddressForm, "addr", address_add, gettext_lazy("Address added."), "address_form", "address"
)
remove_address = _remover(address_get, address_remove, "address", gettext_lazy("Address removed."))
record_consent = _adder(
    ConsentForm,
    "consent",
    consent_record,
    gettext_lazy("Consent recorded."),
    "consent_form",
    "consent",
)
add_person = _adder(
    PersonForm,
    "person",
    person_create,
    gettext_lazy("Contact person added."),
    "person_form",
    "person",
    client_argument="organisation",
)
add_important_date = _adder(
    ImportantDateForm,
    "date",
    important_date_add,
    gettext_lazy("Date added. Its owner will be reminded before it."),
    "date_form",
    "date",
)
remove_important_date = _remover(
    important_date_get, important_date_remove, "important_date", gettext_lazy("Date removed.")
)


@login_required
@require_POST
def add_contract(request: AuthedRequest, client_id: int) -> HttpResponse:
    client = client_get(viewer=request.user, client_id=client_id)
    form = ContractForm(request.POST, prefix="contract")
    if form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        if form_attempt(form, lambda: contract_create(actor=request.user, client=client, **data)):
            return _answer(request, client, ok=_("Contract added."))
    return _answer(request, client, contract_form=form, open_form="contract")


@login_required
@require_POST
def edit_contract(request: AuthedRequest, client_id: int, contract_id: int) -> HttpResponse:
    contract = contract_get(viewer=request.user, contract_id=contract_id)
    if contract.client_id != client_id:
        raise NotFound(resource="contract", id=contract_id)
    form = ContractForm(request.POST, prefix=f"c{contract.pk}")
    if form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        if form_attempt(
            form,
            lambda: contract_update(
                actor=request.user,
                contract=contract,
                expected_version=form.cleaned_data.get("version"),
                **data,
            ),
        ):
            return _answer(request, contract.client, ok=_("Contract saved."))
    return _answer(
        request, contract.client, contract_edit_form=form, open_form=f"contract-{contract.pk}"
    )


@login_required
@require_POST
def upload_file(request: AuthedRequest, client_id: int) -> HttpResponse:
    client = client_get(viewer=request.user, client_id=client_id)
    card = client_card(viewer=request.user, client_id=client_id)
    form = AttachmentForm(request.POST, request.FILES, prefix="file", contracts=card.contracts)
    if form.is_valid():
        data = form.cleaned_data
        contract = next((c for c in card.contracts if c.pk == data["contract"]), None)
        if form_attempt(
            form,
            lambda: attachment_add(
                actor=request.user,
                client=client,
                upload=data["file"],
                contract=contract,
                is_signed_copy=data["is_signed_copy"],
            ),
        ):
            return _answer(request, client, ok=_("File uploaded."))
    return _answer(request, client, file_form=form, open_form="file")


@login_required
@require_GET
def download_file(request: AuthedRequest, attachment_id: int) -> FileResponse:
    attachment = attachment_get(viewer=request.user, attachment_id=attachment_id)
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def set_custom_values(request: AuthedRequest, client_id: int) -> HttpResponse:
    client = client_get(viewer=request.user, client_id=client_id)
    fields = custom_fields_list(entity=CustomField.Entity.CLIENT)
    form = CustomValuesForm(request.POST, prefix="custom", fields=fields)
    if form.is_valid():
        values = {**(client.custom or {}), **form.cleaned_data}
        if form_attempt(
            form, lambda: client_update(actor=request.user, client=client, custom=values)
        ):
            return _answer(request, client, ok=_("Personal details saved."))
    for name in list(form.errors):
        if name and name.startswith("custom."):
            form.errors[name.removeprefix("custom.")] = form.errors.pop(name)
    return _answer(request, client, custom_form=form, open_form="custom")


@login_required
@require_POST
def change_tier(request: AuthedRequest, client_id: int) -> HttpResponse:
    client = client_get(viewer=request.user, client_id=client_id)
    form = TierChangeForm(request.POST, prefix="tier")
    if form.is_valid() and form_attempt(
        form,
        lambda: client_update(
            actor=request.user,
            client=client,
            tier=form.cleaned_data["tier"],
            tier_reason=form.cleaned_data["reason"],
        ),
    ):
        return _answer(request, client, ok=_("Tier changed."))
    return _answer(request, client, tier_form=form, open_form="tier")


# --- settings: custom fields and tiers ------------------------------------------------


def _require_settings(request: AuthedRequest) -> None:
    if not has_capability(request.user, Capability.MANAGE_SETTINGS):
        raise NotPermitted(action="manage", resource="settings")


@login_required
def custom_fields(request: AuthedRequest) -> HttpResponse:
    _require_settings(request)
    form = CustomFieldForm(request.POST or None)
    if request.method == "POST":
        toggle = request.POST.get("toggle")
        if toggle:
            field = CustomField.objects.filter(pk=toggle).first()
            if field is not None:
                custom_field_update(actor=request.user, field=field, is_active=not field.is_active)
            return redirect("card:custom_fields")
        if form.is_valid() and form_attempt(
            form,
            lambda: custom_field_create(
                actor=request.user, **{k: v for k, v in form.cleaned_data.items() if v is not None}
            ),
        ):
            messages.success(
                request, _("Field “%(label)s” added.") % {"label": form.cleaned_data["label"]}
            )
            return redirect("card:custom_fields")
    return render(
        request,
        "web/settings/custom_fields.html",
        {
            "form": form,
            "fields": custom_fields_list(include_inactive=True),
        },
        status=422 if form.errors else 200,
    )


@login_required
def tiers(request: AuthedRequest) -> HttpResponse:
    _require_settings(request)
    form = TierForm(request.POST or None)
    edit_id = request.POST.get("tier_id")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if edit_id:
            tier = Tier.objects.filter(pk=edit_id).first()
            ok = tier is not None and form_attempt(
                form, lambda: tier_update(actor=request.user, tier=tier, **data)
            )
        else:
            ok = form_attempt(form, lambda: tier_create(actor=request.user, **data))
        if ok:
            messages.success(request, _("Tiers saved."))
            return redirect("card:tiers")
    return render(
        request,
        "web/settings/tiers.html",
        {
            "form": form,
            "tiers": list(Tier.objects.all()),
        },
        status=422 if form.errors else 200,
    )


app_name = "card"
urlpatterns: list[Any] = [
    path("clients/<int:client_id>/card/contacts/", add_contact_point, name="add_contact"),
    path(
        "clients/<int:client_id>/card/contacts/<int:point_id>/remove/",
        remove_contact_point,
        name="remove_contact",
    ),
    path("clients/<int:client_id>/card/addresses/", add_address, name="add_address"),
    path(
        "clients/<int:client_id>/card/addresses/<int:address_id>/remove/",
        remove_address,
        name="remove_address",
    ),
    path("clients/<int:client_id>/card/consents/", record_consent, name="record_consent"),
    path("clients/<int:client_id>/card/contracts/", add_contract, name="add_contract"),
    path(
        "clients/<int:client_id>/card/contracts/<int:contract_id>/",
        edit_contract,
        name="edit_contract",
    ),
    path("clients/<int:client_id>/card/files/", upload_file, name="upload_file"),
    path("files/<int:attachment_id>/", download_file, name="download_file"),
    path("clients/<int:client_id>/card/people/", add_person, name="add_person"),
    path("clients/<int:client_id>/card/dates/", add_important_date, name="add_date"),
    path(
        "clients/<int:client_id>/card/dates/<int:date_id>/remove/",
        remove_important_date,
        name="remove_date",
    ),
    path("clients/<int:client_id>/card/custom/", set_custom_values, name="set_custom"),
    path("clients/<int:client_id>/card/tier/", change_tier, name="change_tier"),
    path("clients/<int:client_id>/card/forms/<slug:name>/", card_form, name="form"),
    path(
        "clients/<int:client_id>/card/forms/<slug:name>/<int:item_id>/",
        card_form,
        name="form_item",
    ),
    path("settings/custom-fields/", custom_fields, name="custom_fields"),
    path("settings/tiers/", tiers, name="tiers"),
]


# --- deals and orders on the card (issue 4) ---------------------------------------------

CARD_DEALS = 5
CARD_ORDERS = 5


@dataclass
class ClientSales:
    """The card's "Deals and orders" block: the client's open deals and last orders
    that the viewer may read, and the revenue of its orders (per currency)."""

    open_deals: list[Any]
    orders: list[Any]
    revenue: list[dict[str, Any]]  # {"currency", "year", "all"} per currency
    year: int
    can_create: bool


def client_sales(
    viewer: Any, client: Client, *, today: dt.date | None = None
) -> ClientSales | None:
    """The block's data in three queries (open deals, last orders, revenue totals),
    read through the sales selectors, so scoped to what the viewer may read in sales;
    None for a viewer without read access to sales (the block is not shown)."""
    from lavka.sales.models import SALE_STATUSES, Stage
    from lavka.sales.permissions import can_create_sales_record, can_read_sales
    from lavka.sales.selectors.deals import client_deals
    from lavka.sales.selectors.orders import client_orders

    if not can_read_sales(viewer):
        return None
    today = today or timezone.localdate()
    open_deals = list(
        client_deals(viewer=viewer, client=client)
        .filter(stage__kind=Stage.Kind.OPEN)
        .select_related(None)
        .select_related("stage")
        .only(
            "id",
            "title",
            "amount",
            "currency",
            "expected_close_on",
            "probability",
            "stage__name",
            "stage__kind",
        )
        .order_by(F("expected_close_on").asc(nulls_last=True), "-id")[:CARD_DEALS]
    )
    orders = client_orders(viewer=viewer, client=client)
    last_orders = list(
        orders.select_related(None).only(
            "id", "number", "ordered_on", "total", "currency", "status"
        )[:CARD_ORDERS]
    )
    revenue: list[dict[str, Any]] = []
    if last_orders:
        year_start = today.replace(month=1, day=1)
        revenue = list(
            orders.filter(status__in=SALE_STATUSES)
            .order_by()
            .values("currency")
            .annotate(
                all=Sum("total"),
                year=Sum("total", filter=Q(ordered_on__gte=year_start), default=Decimal(0)),
            )
            .order_by("-all", "currency")
        )
    return ClientSales(
        open_deals=open_deals,
        orders=last_orders,
        revenue=revenue,
        year=today.year,
        can_create=can_create_sales_record(viewer),
    )
