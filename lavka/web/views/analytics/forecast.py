"""Analytics pages: the revenue forecast."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path


def _pending(request: HttpRequest) -> HttpResponse:
    raise Http404


urlpatterns: list[Any] = [
    path("analytics/forecast/", _pending, name="forecast"),
]
