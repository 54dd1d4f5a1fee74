"""Analytics pages: the KPI dashboard."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path


def _pending(request: HttpRequest) -> HttpResponse:
    raise Http404


urlpatterns: list[Any] = [
    path("analytics/", _pending, name="dashboard"),
]
