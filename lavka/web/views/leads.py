"""Pages of the leads area (Sales): the leads list, the lead card with its status,
owner and conversion, a lead by hand, and the web forms with their snippets.

The public side, without a login: the hosted form page /f/<key>/ and the capture
endpoint /f/<key>/submit/, the only CSRF-exempt view here. It answers JSON to the
snippet's script (Accept: application/json, or a JSON body), with CORS headers for
the form's allowed websites only, and a plain HTML page to a browser without
JavaScript."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from lavka.clients.selectors import client_get
from lavka.core.errors import DomainError, NotFound, ValidationFailed
from lavka.identity.selectors import user_get
from lavka.leads.errors import PossibleDuplicates
from lavka.leads.models import FORM_FIELDS, Lead, WebForm
from lavka.leads.permissions import can_create_lead, can_edit_lead, can_manage_web_forms
from lavka.leads.selectors import (
    lead_duplicates,
    lead_get,
    lead_list,
    lead_status_counts,
    web_form_get,
    web_form_public,
    web_forms_visible_to,
)
from lavka.leads.services import (
    lead_assign,
    lead_capture,
    lead_convert,
    lead_create,
    lead_status_set,
    lead_update,
    web_form_create,
    web_form_update,
)
from lavka.leads.services.capture import BODY_LIMIT, HONEYPOT, UTM_FIELDS, origin_allowed
from lavka.web.errors import form_errors_from
from lavka.web.requests import AuthedRequest

LIST_PAGE = 50
STATUS_TABS = [
    ("open", gettext_lazy("Open leads")),
    ("new", gettext_lazy("New")),
    ("in_work", gettext_lazy("In work")),
    ("qualified", gettext_lazy("Qualified")),
    ("disqualified", gettext_lazy("Disqualified")),
    ("converted", gettext_lazy("Converted")),
    ("all", gettext_lazy("All")),
]
FIELD_LABELS = {
    "company": gettext_lazy("Company"),
    "contact_name": gettext_lazy("Your name"),
    "email": gettext_lazy("Email"),
    "phone": gettext_lazy("Phone"),
    "message": gettext_lazy("Message"),
}


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _owner_choices() -> list[Any]:
    return list(
        get_user_model()
        .objects.filter(is_active=True)
        .only("username", "first_name", "last_name")
        .order_by("last_name", "first_name", "username")[:300]
    )


# --- the list ----------------------------------------------------------------------------


@login_required
@require_GET
def list_leads(request: AuthedRequest) -> HttpResponse:
    """Leads the viewer may see, newest first: status tabs, filters by source and owner,
    a search over company, name, email and phone."""
    params = request.GET
    status = params.get("status", "open")
    source = params.get("source", "")
    owner_id = _int(params.get("owner"))
    query = params.get("q", "").strip()
    rows = lead_list(
        viewer=request.user,
        status="" if status == "all" else status,
        source=source,
        owner_id=owner_id,
        query=query,
    )
    number = max(1, _int(params.get("page")) or 1)
    page = list(rows[(number - 1) * LIST_PAGE : number * LIST_PAGE + 1])
    has_next = len(page) > LIST_PAGE
    counts = lead_status_counts(viewer=request.user)
    counts["open"] = sum(counts.get(s, 0) for s in ("new", "in_work", "qualified"))
    counts["all"] = sum(counts.get(s, 0) for s in Lead.Status.values)
    filtered = bool(source or owner_id or query)
    request.nav_section = "sales"  # type: ignore[attr-defined]
    context = {
        "leads": page[:LIST_PAGE],
        "number": number,
        "has_next": has_next,
        "status": status,
        "tabs": [(key, label, counts.get(key, 0)) for key, label in STATUS_TABS],
        "sources": Lead.Source.choices,
        "source": source,
        "owner": str(owner_id or ""),
        "owners": _owner_choices(),
        "query": query,
        "filtered": filtered,
        "can_create": can_create_lead(request.user),
        "can_manage_forms": can_manage_web_forms(request.user),
    }
    template = "web/leads/_rows.html" if request.htmx else "web/leads/list.html"  # type: ignore[attr-defined]
    return render(request, template, context)


# --- a lead by hand ----------------------------------------------------------------------


class LeadForm(forms.Form):
    company = forms.CharField(label=gettext_lazy("Company"), max_length=200, required=False)
    contact_name = forms.CharField(
        label=gettext_lazy("Contact name"), max_length=200, required=False
    )
    email = forms.CharField(label=gettext_lazy("Email"), max_length=254, required=False)
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=40, required=False)
    inn = forms.CharField(label=gettext_lazy("INN"), max_length=12, required=False)
    source = forms.ChoiceField(label=gettext_lazy("Source"), choices=Lead.Source.choices)
    campaign = forms.CharField(label=gettext_lazy("Campaign"), max_length=100, required=False)
    message = forms.CharField(
        label=gettext_lazy("Message"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


@login_required
def create_lead(request: AuthedRequest) -> HttpResponse:
    if not can_create_lead(request.user):
        raise NotFound(resource="lead")
    form = LeadForm(
        request.POST if request.method == "POST" else None,
        initial={"source": Lead.Source.MANUAL},
    )
    if request.method == "POST" and form.is_valid():
        try:
            lead = lead_create(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            if exc.http_status == 403:
                raise
            form_errors_from(form, exc)
        else:
            messages.success(
                request, _("Lead “%(name)s” has been created.") % {"name": lead.display_name}
            )
            return redirect("leads:show", lead_id=lead.pk)
    request.nav_section = "sales"  # type: ignore[attr-defined]
    return render(
        request, "web/leads/lead_form.html", {"form": form}, status=422 if form.errors else 200
    )


@login_required
def edit_lead(request: AuthedRequest, lead_id: int) -> HttpResponse:
    lead = lead_get(viewer=request.user, lead_id=lead_id)
    if not can_edit_lead(request.user, lead) or lead.status == Lead.Status.CONVERTED:
        return redirect("leads:show", lead_id=lead.pk)
    form = LeadForm(
        request.POST if request.method == "POST" else None,
        initial={name: getattr(lead, name) for name in LeadForm.base_fields},
    )
    if request.method == "POST" and form.is_valid():
        try:
            lead_update(
                actor=request.user,
                lead=lead,
                expected_version=_int(request.POST.get("version")),
                **form.cleaned_data,
            )
        except DomainError as exc:
            if exc.http_status in (403, 404):
                raise
            form_errors_from(form, exc)
        else:
            messages.success(request, _("The lead has been saved."))
            return redirect("leads:show", lead_id=lead.pk)
    request.nav_section = "sales"  # type: ignore[attr-defined]
    return render(
        request,
        "web/leads/lead_form.html",
        {"form": form, "lead": lead},
        status=422 if form.errors else 200,
    )


# --- the lead card -----------------------------------------------------------------------


def _card(request: AuthedRequest, lead: Lead, **extra: Any) -> dict[str, Any]:
    can_edit = can_edit_lead(request.user, lead)
    return {
        "lead": lead,
        "can_edit": can_edit and lead.status != Lead.Status.CONVERTED,
        "owners": _owner_choices() if can_edit else [],
        "statuses": [
            (value, label) for value, label in Lead.Status.choices if value != Lead.Status.CONVERTED
        ],
        "errors": {},
        **extra,
    }


@login_required
@require_GET
def show_lead(request: AuthedRequest, lead_id: int) -> HttpResponse:
    lead = lead_get(viewer=request.user, lead_id=lead_id)
    request.nav_section = "sales"  # type: ignore[attr-defined]
    return render(request, "web/leads/lead.html", _card(request, lead))


@login_required
@require_POST
def set_lead_status(request: AuthedRequest, lead_id: int) -> HttpResponse:
    """Start work, qualify, disqualify (with a reason) or reopen."""
    lead = lead_get(viewer=request.user, lead_id=lead_id)
    try:
        lead_status_set(
            actor=request.user,
            lead=lead,
            status=request.POST.get("status", ""),
            reason=request.POST.get("reason", ""),
            expected_version=_int(request.POST.get("version")),
        )
    except ValidationFailed as exc:
        request.nav_section = "sales"  # type: ignore[attr-defined]
        return render(
            request,
            "web/leads/lead.html",
            _card(request, lead, errors=exc.fields, posted_reason=request.POST.get("reason", "")),
            status=422,
        )
    messages.success(request, _("The lead's status has been changed."))
    return redirect("leads:show", lead_id=lead.pk)


@login_required
@require_POST
def assign_lead(request: AuthedRequest, lead_id: int) -> HttpResponse:
    lead = lead_get(viewer=request.user, lead_id=lead_id)
    owner_id = _int(request.POST.get("owner"))
    try:
        owner = user_get(viewer=request.user, user_id=owner_id) if owner_id else None
    except NotFound:
        owner = None
    if owner is None:
        request.nav_section = "sales"  # type: ignore[attr-defined]
        return render(
            request,
            "web/leads/lead.html",
            _card(request, lead, errors={"owner": [_("Choose a user.")]}),
            status=422,
        )
    lead_assign(
        actor=request.user,
        lead=lead,
        owner=owner,
        expected_version=_int(request.POST.get("version")),
    )
    messages.success(request, _("The lead now belongs to %(owner)s.") % {"owner": owner})
    return redirect("leads:show", lead_id=lead.pk)


# --- conversion --------------------------------------------------------------------------


@login_required
def convert_lead(request: AuthedRequest, lead_id: int) -> HttpResponse:
    """One step: the client (new, or an existing one the duplicate check found), the
    contact person and the deal; then the deal's card."""
    lead = lead_get(viewer=request.user, lead_id=lead_id)
    if not can_edit_lead(request.user, lead) or lead.status == Lead.Status.CONVERTED:
        return redirect("leads:show", lead_id=lead.pk)
    matches = lead_duplicates(viewer=request.user, lead=lead)
    errors: dict[str, list[str]] = {}
    posted = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        choice = posted.get("client", "new")
        try:
            attach_to = (
                client_get(viewer=request.user, client_id=int(choice))
                if choice not in ("", "new")
                else None
            )
            conversion = lead_convert(
                actor=request.user,
                lead=lead,
                attach_to=attach_to,
                create_new=choice == "new",
                deal_title=posted.get("deal_title", ""),
                amount=posted.get("amount") or None,
                currency=posted.get("currency", "").strip().upper(),
                expected_version=_int(posted.get("version")),
            )
        except (ValueError, NotFound):
            errors = {"client": [_("Choose a client from the list.")]}
        except PossibleDuplicates as exc:
            matches, errors = exc.matches, exc.fields
        except ValidationFailed as exc:
            errors = exc.fields
        else:
            messages.success(
                request,
                _("The lead has been converted: client “%(client)s”, deal “%(deal)s”.")
                % {"client": conversion.client.name, "deal": conversion.deal.title},
            )
            return redirect("sales:deal", deal_id=conversion.deal.pk)
    request.nav_section = "sales"  # type: ignore[attr-defined]
    return render(
        request,
        "web/leads/convert.html",
        {
            "lead": lead,
            "matches": matches,
            "errors": errors,
            "chosen": posted.get("client", str(matches[0].client.pk) if matches else "new"),
            "deal_title": posted.get("deal_title") or lead.company or lead.contact_name,
            "amount": posted.get("amount", ""),
            "currency": posted.get("currency", ""),
            "reason_labels": {
                "inn": _("same INN"),
                "email": _("same email"),
                "phone": _("same phone"),
                "name": _("similar name"),
            },
        },
        status=422 if errors else 200,
    )


# --- web forms ---------------------------------------------------------------------------


class WebFormForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    owner = forms.TypedChoiceField(
        label=gettext_lazy("Leads go to"),
        coerce=int,
        help_text=gettext_lazy("The owner of every lead this form captures."),
    )
    shown_fields = forms.MultipleChoiceField(
        label=gettext_lazy("Fields shown"),
        choices=[(name, FIELD_LABELS[name]) for name in FORM_FIELDS],
        widget=forms.CheckboxSelectMultiple,
    )
    language = forms.ChoiceField(label=gettext_lazy("Language of the form"), choices=[])
    success_message = forms.CharField(
        label=gettext_lazy("Success message"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Shown after sending; empty: a standard thank-you."),
    )
    allowed_origins = forms.CharField(
        label=gettext_lazy("Allowed websites"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "One address a line, e.g. https://example.com. Only these websites may send "
            "the form; the hosted page always may."
        ),
    )
    source_campaign = forms.CharField(
        label=gettext_lazy("Campaign"),
        required=False,
        max_length=100,
        help_text=gettext_lazy("Recorded on every lead; empty: the page's utm_campaign."),
    )
    is_active = forms.BooleanField(label=gettext_lazy("Accepts leads"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from django.conf import settings

        self.fields["owner"].choices = [  # type: ignore[attr-defined]
            (u.pk, str(u)) for u in _owner_choices()
        ]
        self.fields["language"].choices = [  # type: ignore[attr-defined]
            (code, str(name)) for code, name in settings.LANGUAGES
        ]


@login_required
@require_GET
def list_web_forms(request: AuthedRequest) -> HttpResponse:
    request.nav_section = "sales"  # type: ignore[attr-defined]
    return render(
        request,
        "web/leads/forms.html",
        {
            "forms": list(web_forms_visible_to(request.user)),
            "can_manage": can_manage_web_forms(request.user),
        },
    )


def _web_form_save(request: AuthedRequest, instance: WebForm | None) -> HttpResponse:
    if not can_manage_web_forms(request.user):
        raise NotFound(resource="web_form")
    initial = (
        {
            "name": instance.name,
            "owner": instance.owner_id,
            "shown_fields": instance.shown_fields,
            "language": instance.language,
            "success_message": instance.success_message,
            "allowed_origins": instance.allowed_origins,
            "source_campaign": instance.source_campaign,
            "is_active": instance.is_active,
        }
        if instance
        else {
            "owner": request.user.pk,
            "shown_fields": ["contact_name", "email", "phone", "message"],
            "language": translation.get_language(),
            "is_active": True,
        }
    )
    form = WebFormForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["fields"] = data.pop("shown_fields")
        try:
            data["owner"] = user_get(viewer=request.user, user_id=data["owner"])
            if instance is None:
                saved = web_form_create(actor=request.user, **data)
            else:
                saved = web_form_update(
                    actor=request.user,
                    form=instance,
                    expected_version=_int(request.POST.get("version")),
                    rotate_key=bool(request.POST.get("rotate_key")),
                    **data,
                )
        except DomainError as exc:
            if exc.http_status == 403:
                raise
            form_errors_from(form, exc)
        else:
            messages.success(request, _("The web form has been saved."))
            return redirect("leads:form_snippet", form_id=saved.pk)
    request.nav_section = "sales"  # type: ignore[attr-defined]
    return render(
        request,
        "web/leads/web_form.html",
        {"form": form, "instance": instance},
        status=422 if form.errors else 200,
    )


@login_required
def create_web_form(request: AuthedRequest) -> HttpResponse:
    return _web_form_save(request, None)


@login_required
def edit_web_form(request: AuthedRequest, form_id: int) -> HttpResponse:
    return _web_form_save(request, web_form_get(viewer=request.user, form_id=form_id))


def _embed_html(
    request: HttpRequest, form: WebForm, *, values: Any = None, errors: Any = None
) -> str:
    """The form's markup and its inline script: what a website pastes, and what the
    hosted page shows. Labels are in the form's language."""
    with translation.override(form.language):
        return render_to_string(
            "web/leads/_embed.html",
            {
                "form": form,
                "endpoint": request.build_absolute_uri(reverse("leads:capture", args=[form.key])),
                "fields": [
                    {
                        "name": name,
                        "label": FIELD_LABELS[name],
                        "value": (values or {}).get(name, ""),
                        "errors": (errors or {}).get(name, []),
                    }
                    for name in form.shown_fields
                ],
                "honeypot": HONEYPOT,
                "utm_fields": UTM_FIELDS,
            },
        )


@login_required
@require_GET
def show_web_form_snippet(request: AuthedRequest, form_id: int) -> HttpResponse:
    form = web_form_get(viewer=request.user, form_id=form_id)
    request.nav_section = "sales"  # type: ignore[attr-defined]
    return render(
        request,
        "web/leads/snippet.html",
        {
            "web_form": form,
            "snippet": _embed_html(request, form),
            "hosted_url": request.build_absolute_uri(reverse("leads:hosted", args=[form.key])),
            "endpoint": request.build_absolute_uri(reverse("leads:capture", args=[form.key])),
            "can_manage": can_manage_web_forms(request.user),
        },
    )


# --- the public side ---------------------------------------------------------------------


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _own_origin(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}"


def _with_cors(response: HttpResponse, request: HttpRequest, form: WebForm | None) -> HttpResponse:
    """CORS headers for an allowed website only (never `*`)."""
    origin = request.headers.get("Origin", "")
    response["Vary"] = "Origin"
    if (
        form is not None
        and origin
        and origin.rstrip("/").lower() != _own_origin(request).lower()
        and origin_allowed(form, origin, own_origin="")
    ):
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type, Accept"
        response["Access-Control-Max-Age"] = "600"
    return response


@never_cache
@require_GET
def hosted_form(request: HttpRequest, key: str) -> HttpResponse:
    """The form on a page of its own, for a link in a letter or an ad."""
    form = web_form_public(key=key)
    with translation.override(form.language):
        return render(
            request,
            "web/leads/public.html",
            {"web_form": form, "embed": _embed_html(request, form), "language": form.language},
        )


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "") or (
        request.content_type or ""
    ).startswith("application/json")


def _submitted(request: HttpRequest) -> dict[str, str]:
    if (request.content_type or "").startswith("application/json"):
        try:
            body = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict):
            raise ValidationFailed(
                fields={"__all__": [_("Send the form's fields as a JSON object.")]}
            )
        return {str(k): "" if v is None else str(v) for k, v in body.items()}
    return {k: request.POST.get(k, "") for k in request.POST}


@csrf_exempt
@never_cache
def capture(request: HttpRequest, key: str) -> HttpResponse:
    """The public endpoint a website's form posts to (form-encoded or JSON)."""
    try:
        form: WebForm | None = web_form_public(key=key)
    except NotFound:
        form = None
    if request.method == "OPTIONS":
        return _with_cors(HttpResponse(status=204), request, form)
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "POST, OPTIONS"})
    if form is None:
        return _with_cors(
            JsonResponse(
                {"ok": False, "code": "not_found", "detail": str(_("Not found."))}, status=404
            ),
            request,
            None,
        )
    as_json = _wants_json(request)
    with translation.override(form.language):
        if (_int(request.META.get("CONTENT_LENGTH")) or 0) > BODY_LIMIT:
            detail = _("The form is too large.")
            return _with_cors(
                JsonResponse({"ok": False, "code": "too_large", "detail": detail}, status=413)
                if as_json
                else HttpResponse(detail, status=413, content_type="text/plain; charset=utf-8"),
                request,
                form,
            )
        data: dict[str, str] = {}
        try:
            data = _submitted(request)
            result = lead_capture(
                form=form,
                data=data,
                ip=_client_ip(request),
                origin=request.headers.get("Origin", ""),
                own_origin=_own_origin(request),
                page_url=data.get("page_url") or request.headers.get("Referer", ""),
            )
        except DomainError as exc:
            status = exc.http_status
            fields = {k: [str(m) for m in v] for k, v in exc.fields.items()}
            if as_json:
                response: HttpResponse = JsonResponse(
                    {"ok": False, "code": exc.code, "detail": exc.detail, "fields": fields},
                    status=status,
                )
            else:
                response = render(
                    request,
                    "web/leads/public.html",
                    {
                        "web_form": form,
                        "embed": _embed_html(request, form, values=data, errors=fields),
                        "language": form.language,
                        "detail": exc.detail,
                        "errors": fields,
                    },
                    status=status,
                )
            return _with_cors(response, request, form)
        if as_json:
            response = JsonResponse({"ok": True, "message": result.message}, status=201)
        else:
            response = render(
                request,
                "web/leads/public_done.html",
                {"web_form": form, "message": result.message, "language": form.language},
            )
        return _with_cors(response, request, form)


app_name = "leads"
urlpatterns: list[Any] = [
    path("sales/leads/", list_leads, name="list"),
    path("sales/leads/new/", create_lead, name="create"),
    path("sales/leads/<int:lead_id>/", show_lead, name="show"),
    path("sales/leads/<int:lead_id>/edit/", edit_lead, name="edit"),
    path("sales/leads/<int:lead_id>/status/", set_lead_status, name="status"),
    path("sales/leads/<int:lead_id>/assign/", assign_lead, name="assign"),
    path("sales/leads/<int:lead_id>/convert/", convert_lead, name="convert"),
    path("sales/leads/forms/", list_web_forms, name="forms"),
    path("sales/leads/forms/new/", create_web_form, name="form_create"),
    path("sales/leads/forms/<int:form_id>/", edit_web_form, name="form_edit"),
    path("sales/leads/forms/<int:form_id>/snippet/", show_web_form_snippet, name="form_snippet"),
    path("f/<str:key>/", hosted_form, name="hosted"),
    path("f/<str:key>/submit/", capture, name="capture"),
]
