"""Home, area placeholders, search, language, notifications, profile and tokens."""

from __future__ import annotations

import functools

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lavka.clients.permissions import can_create_client
from lavka.clients.selectors import clients_visible_to
from lavka.core.errors import DomainError
from lavka.identity.access import Action, Scope, scope_for
from lavka.identity.permissions import can_use_api
from lavka.identity.selectors import api_token_get, api_tokens_visible_to
from lavka.identity.services import api_token_create, api_token_revoke, user_update
from lavka.jobs.selectors import jobs_visible_to
from lavka.notifications.selectors import notifications_visible_to
from lavka.notifications.services import notifications_mark_read
from lavka.web.errors import form_errors_from
from lavka.web.forms import ProfileForm, TokenForm
from lavka.web.navigation import NAV
from lavka.web.requests import AuthedRequest


@login_required
def home(request: AuthedRequest) -> HttpResponse:
    clients = clients_visible_to(request.user)
    context = {
        "client_count": clients.count(),
        "my_client_count": clients.filter(owner=request.user).count(),
        "recent_clients": clients.order_by("-updated_at")[:8],
        "recent_jobs": jobs_visible_to(request.user)[:5],
        "can_create": can_create_client(request.user),
    }
    return render(request, "web/home.html", context)


@login_required
def area(request: AuthedRequest, key: str) -> HttpResponse:
    """Areas that later work fills in: an empty state that says what will be here."""
    item = next((i for i in NAV if i.key == key and i.area), None)
    if item is None or scope_for(request.user, item.area or "", Action.READ) == Scope.NONE:
        raise Http404
    return render(request, "web/area.html", {"item": item})


@functools.lru_cache(maxsize=4096)
def _phone_shown(e164: str, region: str) -> str:
    """phone_display, remembered: parsing and formatting a number with phonenumbers
    costs more than the rest of a search result's line."""
    from lavka.clients.identifiers import phone_display

    return phone_display(e164)


@login_required
def search(request: AuthedRequest) -> HttpResponse:
    """The one-box search, grouped by type; a fragment for the top bar (htmx)."""
    from lavka.search.highlight import highlight_segments

    def phone_display(e164: str) -> str:
        return _phone_shown(e164, settings.PHONE_REGION)

    from lavka.search.selectors import search_everything

    query = request.GET.get("q", "").strip()
    limit = 8 if request.htmx else 25  # type: ignore[attr-defined]
    results = search_everything(viewer=request.user, query=query, limit=limit)
    terms = results.terms
    groups = []
    for key, title, hits in (
        ("clients", _("Clients"), results.clients),
        ("people", _("People"), results.people),
        ("contracts", _("Contracts"), results.contracts),
    ):
        items = []
        for hit in hits:
            obj = hit.obj
            if hit.kind == "client":
                name, url = obj.name, reverse("clients:show", args=[obj.pk])
                meta = [
                    obj.get_kind_display(),
                    obj.city,
                    obj.email,
                    phone_display(obj.phone),
                    obj.inn and _("INN %(inn)s") % {"inn": obj.inn},
                ]
            elif hit.kind == "person":
                name, url = obj.full_name or str(obj.pk), ""
                meta = [obj.email, phone_display(obj.phone)]
            else:
                name = _("Contract %(number)s") % {"number": obj.number}
                url = reverse("clients:show", args=[obj.client_id])
                meta = [obj.client.name, obj.subject]
            items.append(
                {
                    "name": highlight_segments(name, terms),
                    "meta": highlight_segments(" · ".join(str(m) for m in meta if m), terms),
                    "url": url,
                    "fuzzy": not hit.exact,
                }
            )
        if items:
            groups.append({"key": key, "title": title, "items": items})
    template = "web/_search_results.html" if request.htmx else "web/search.html"  # type: ignore[attr-defined]
    return render(
        request,
        template,
        {"query": query, "groups": groups, "total": results.total, "too_short": results.too_short},
    )


@require_POST
def switch_language(request: AuthedRequest) -> HttpResponse:
    language = request.POST.get("language", "")
    next_url = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    response: HttpResponse = HttpResponseRedirect(next_url)
    if language not in dict(settings.LANGUAGES):
        return response
    if request.user.is_authenticated and request.user.language != language:  # type: ignore[union-attr]
        user_update(actor=request.user, user=request.user, language=language)  # type: ignore[arg-type]
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    return response


@login_required
def notifications(request: AuthedRequest) -> HttpResponse:
    if request.method == "POST":
        notifications_mark_read(viewer=request.user)
        return redirect("notifications")
    items = notifications_visible_to(request.user)[:50]
    return render(request, "web/notifications.html", {"items": items})


@login_required
def profile(request: AuthedRequest) -> HttpResponse:
    user = request.user
    form = ProfileForm(
        request.POST or None,
        initial={
            "first_name": user.first_name,
            "last_name": user.last_name,  # type: ignore[union-attr]
            "email": user.email,
            "language": user.language,  # type: ignore[union-attr]
            "time_zone": user.time_zone,  # type: ignore[union-attr]
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            user_update(actor=user, user=user, **form.cleaned_data)  # type: ignore[arg-type]
        except DomainError as exc:
            form_errors_from(form, exc)
        else:
            messages.success(request, _("Your profile has been saved."))
            response = redirect("profile")
            if form.cleaned_data["language"]:
                response.set_cookie(
                    settings.LANGUAGE_COOKIE_NAME,
                    form.cleaned_data["language"],
                    samesite="Lax",
                    secure=settings.SESSION_COOKIE_SECURE,
                )
            return response
    tokens = api_tokens_visible_to(request.user).filter(user=request.user)
    return render(
        request,
        "web/profile.html",
        {
            "form": form,
            "tokens": tokens,
            "token_form": TokenForm(),
            "can_use_api": can_use_api(request.user),
        },
    )


@login_required
@require_POST
def token_create(request: AuthedRequest) -> HttpResponse:
    form = TokenForm(request.POST)
    if form.is_valid():
        try:
            token, raw = api_token_create(
                actor=request.user, name=form.cleaned_data["name"], scope=form.cleaned_data["scope"]
            )
        except DomainError as exc:
            messages.error(request, exc.detail)
        else:
            return render(request, "web/token_created.html", {"token": token, "raw": raw})
    return redirect("profile")


@login_required
@require_POST
def token_revoke(request: AuthedRequest, token_id: int) -> HttpResponse:
    token = api_token_get(viewer=request.user, token_id=token_id)
    api_token_revoke(actor=request.user, token=token)
    messages.success(request, _("The token has been revoked."))
    return redirect(request.POST.get("next") or reverse("profile"))
