"""Web views of the card that edit what is already there: an address edited inline,
an existing person linked to (or unlinked from) an organisation, and the person's page
with every organisation they work at. Each POST calls one service and, under htmx,
answers with the re-rendered blocks (one swap); without JavaScript it redirects back to
the card."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms import Form
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from lavka.clients.identifiers import phone_display
from lavka.clients.models import Address, Client, Person
from lavka.clients.selectors import client_get
from lavka.clients.selectors.blocks import (
    address_get,
    employment_get,
    important_date_days_left,
    people_to_link,
    person_get,
)
from lavka.clients.services.blocks import address_update, employment_link, employment_unlink
from lavka.core.errors import NotFound
from lavka.web.errors import form_attempt
from lavka.web.forms import AddressForm
from lavka.web.requests import AuthedRequest
from lavka.web.views.card import card_context

ADDRESS_FIELDS = ["kind", "country", "region", "city", "postcode", "street", "is_primary"]


def address_edit_form(address: Address, failed: Form | None = None) -> Form:
    """The inline edit form of one address: the one that just failed, if it is this
    address's, else a fresh one holding the address as it is."""
    prefix = f"a{address.pk}"
    if failed is not None and failed.prefix == prefix:
        return failed
    return AddressForm(prefix=prefix, initial={f: getattr(address, f) for f in ADDRESS_FIELDS})


def person_label(person: Person) -> str:
    """How a candidate reads in the link form: name, email, phone and where they work."""
    parts = [person.full_name or "—"]
    if person.email:
        parts.append(person.email)
    if person.phone:
        parts.append(phone_display(person.phone))
    for job in getattr(person, "visible_employments", [])[:2]:
        if job.job_title:
            parts.append(
                _("%(title)s at %(organisation)s")
                % {"title": job.job_title, "organisation": job.organisation.name}
            )
        else:
            parts.append(job.organisation.name)
    return " · ".join(parts)


class LinkPersonForm(forms.Form):
    """Link an existing person: find them by name, email or phone, choose one of those
    found, give the job title and role at this organisation."""

    q = forms.CharField(
        label=gettext_lazy("Find a person"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("Part of a name, an email or a phone; at least 2 characters."),
    )
    person = forms.TypedChoiceField(
        label=gettext_lazy("Person"),
        coerce=int,
        widget=forms.RadioSelect,
        choices=[],
        error_messages={
            "required": gettext_lazy("Choose the person from those found."),
            "invalid_choice": gettext_lazy("Choose the person from those found."),
        },
    )
    job_title = forms.CharField(label=gettext_lazy("Job title"), max_length=150, required=False)
    role = forms.CharField(
        label=gettext_lazy("Role"),
        max_length=150,
        required=False,
        help_text=gettext_lazy("e.g. decides, approves, uses"),
    )

    def __init__(
        self,
        *args: Any,
        organisation_id: int,
        candidates: list[Person] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("prefix", "link")
        super().__init__(*args, **kwargs)
        self.candidates = candidates or []
        self.searched = bool(self["q"].value())
        person = self.fields["person"]
        assert isinstance(person, forms.TypedChoiceField)
        person.choices = [(p.pk, person_label(p)) for p in self.candidates]
        url = reverse("card_people:find_people", args=[organisation_id])
        self.fields["q"].widget.attrs.update(
            {
                "type": "search",
                "autocomplete": "off",
                "hx-get": url,
                "hx-trigger": "input changed delay:300ms, search",
                "hx-target": f"#link-found-{organisation_id}",
                "hx-swap": "innerHTML",
                "aria-controls": f"link-found-{organisation_id}",
            }
        )


def link_person_form(client: Client, failed: Form | None = None) -> Form:
    if failed is not None:
        return failed
    return LinkPersonForm(organisation_id=client.pk)


def _answer(
    request: AuthedRequest, client: Client, *, ok: str = "", open_form: str = "", **extra: Any
) -> HttpResponse:
    """Under htmx, the card's blocks re-rendered (422 with the failed form in place);
    otherwise back to the card with a message."""
    failed = [v for v in extra.values() if isinstance(v, Form)]
    if request.htmx:  # type: ignore[attr-defined]
        context = card_context(request.user, client, card_status=ok, open_form=open_form)
        context.update(extra)
        context["card_partial"] = True
        return render(
            request, "web/clients/card/_blocks.html", context, status=422 if failed else 200
        )
    for form in failed:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
    if ok and not failed:
        messages.success(request, ok)
    return redirect("clients:show", client_id=client.pk)


@login_required
@require_POST
def edit_address(request: AuthedRequest, client_id: int, address_id: int) -> HttpResponse:
    address = address_get(viewer=request.user, client_id=client_id, address_id=address_id)
    client = client_get(viewer=request.user, client_id=client_id)
    form = AddressForm(request.POST, prefix=f"a{address.pk}")
    if form.is_valid() and form_attempt(
        form, lambda: address_update(actor=request.user, address=address, **form.cleaned_data)
    ):
        return _answer(request, client, ok=_("Address saved."))
    return _answer(request, client, failed_address_form=form, open_form=f"address-{address.pk}")


def _candidates(request: AuthedRequest, client: Client, query: str) -> list[Person]:
    return people_to_link(viewer=request.user, organisation_id=client.pk, query=query)


@login_required
@require_GET
def find_people(request: AuthedRequest, client_id: int) -> HttpResponse:
    """The persons matching the link form's search box (an htmx fragment)."""
    client = client_get(viewer=request.user, client_id=client_id)
    query = request.GET.get("link-q", "")
    form = LinkPersonForm(
        initial={"q": query},
        organisation_id=client.pk,
        candidates=_candidates(request, client, query),
    )
    return render(
        request,
        "web/clients/card/_people_found.html",
        {"client": client, "form": form, "field": form["person"]},
    )


@login_required
@require_POST
def link_person(request: AuthedRequest, client_id: int) -> HttpResponse:
    client = client_get(viewer=request.user, client_id=client_id)
    candidates = _candidates(request, client, request.POST.get("link-q", ""))
    chosen = request.POST.get("link-person", "")
    if chosen.isdigit() and all(p.pk != int(chosen) for p in candidates):
        # chosen from an earlier search: still a candidate if visible and not here yet
        try:
            person = person_get(viewer=request.user, person_id=int(chosen))
        except NotFound:
            pass
        else:
            if all(e.organisation_id != client.pk for e in person.visible_employments):  # type: ignore[attr-defined]
                candidates.append(person)
    form = LinkPersonForm(request.POST, organisation_id=client.pk, candidates=candidates)
    if form.is_valid():
        data = form.cleaned_data
        person = next(p for p in candidates if p.pk == data["person"])
        if form_attempt(
            form,
            lambda: employment_link(
                actor=request.user,
                person=person,
                organisation=client,
                job_title=data["job_title"],
                role=data["role"],
            ),
        ):
            return _answer(
                request,
                client,
                ok=_("%(name)s now works here too.") % {"name": person.full_name},
            )
    return _answer(request, client, failed_link_form=form, open_form="link")


@login_required
@require_POST
def unlink_person(request: AuthedRequest, client_id: int, employment_id: int) -> HttpResponse:
    employment = employment_get(viewer=request.user, employment_id=employment_id)
    if employment.organisation_id != client_id:
        raise NotFound(resource="employment", id=employment_id)
    employment_unlink(actor=request.user, employment=employment)
    return _answer(
        request,
        client_get(viewer=request.user, client_id=client_id),
        ok=_("%(name)s no longer works here.") % {"name": employment.person.full_name},
    )


@login_required
@require_GET
def show_person(request: AuthedRequest, person_id: int) -> HttpResponse:
    """A contact person and every organisation they work at (of those the viewer may
    read), with job title and role at each, and their important dates."""
    person = person_get(viewer=request.user, person_id=person_id)
    jobs = list(person.visible_employments)  # type: ignore[attr-defined]
    dates = list(person.important_dates.all())
    for date in dates:
        date.days_left = important_date_days_left(date)  # type: ignore[attr-defined]
    return render(
        request,
        "web/people/detail.html",
        {
            "person": person,
            "jobs": jobs,
            "dates": dates,
            "phone_display": phone_display(person.phone),
        },
    )


app_name = "card_people"
urlpatterns: list[Any] = [
    path(
        "clients/<int:client_id>/card/addresses/<int:address_id>/edit/",
        edit_address,
        name="edit_address",
    ),
    path("clients/<int:client_id>/card/people/find/", find_people, name="find_people"),
    path("clients/<int:client_id>/card/people/link/", link_person, name="link_person"),
    path(
        "clients/<int:client_id>/card/people/<int:employment_id>/unlink/",
        unlink_person,
        name="unlink_person",
    ),
    path("people/<int:person_id>/", show_person, name="show_person"),
]
