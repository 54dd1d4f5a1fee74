"""Domain errors met in a web view become the right page, once, here."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from lavka.core.errors import DomainError


class DomainErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if request.path.startswith("/api/") or not isinstance(exception, DomainError):
            return None
        status = exception.http_status
        template = {404: "web/404.html", 403: "web/403.html"}.get(status, "web/error.html")
        return render(request, template, {"error": exception}, status=status)


def form_errors_from(form: object, error: DomainError) -> None:
    """Put a domain error's field messages next to the fields of a Django form."""
    add_error = form.add_error  # type: ignore[attr-defined]
    fields = getattr(form, "fields", {})
    if not error.fields:
        add_error(None, error.detail)
        return
    for name, messages in error.fields.items():
        for message in messages:
            add_error(name if name in fields else None, message)


def form_attempt(form: object, call: Callable[[], object]) -> bool:
    """Run a service call for a bound form: True when it went through; a validation
    error goes next to the form's fields (False). Not found and not permitted propagate
    (DomainErrorMiddleware answers them)."""
    try:
        call()
    except DomainError as exc:
        if exc.http_status in (403, 404):
            raise
        form_errors_from(form, exc)
        return False
    return True
