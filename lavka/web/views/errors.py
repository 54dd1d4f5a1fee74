from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(
            {"code": "not_found", "detail": _("Not found."), "fields": {}}, status=404
        )
    return render(request, "web/404.html", status=404)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(
            {
                "code": "not_permitted",
                "detail": _("You do not have permission to do this."),
                "fields": {},
            },
            status=403,
        )
    return render(request, "web/403.html", status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(
            {
                "code": "server_error",
                "detail": _("Something went wrong on our side."),
                "fields": {},
            },
            status=500,
        )
    return render(request, "web/500.html", status=500)
