"""One error format for the whole API: {"code", "detail", "fields"}, in the request's
language. Registered once on the NinjaAPI object."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from lavka.core.errors import DomainError


def error_body(
    code: str, detail: str, fields: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    return {"code": code, "detail": detail, "fields": fields or {}}


def _location_name(loc: list[Any]) -> str:
    # ninja locations look like ["body", "payload", "email"] or ["query", "limit"]
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "payload")]
    return ".".join(parts) or "__all__"


def _validation_message(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind in ("string_too_long",):
        return _("At most %(max)s characters.") % {"max": ctx.get("max_length")}
    if kind in ("string_too_short",):
        return _("At least %(min)s characters.") % {"min": ctx.get("min_length")}
    if kind.startswith("int_") or kind.startswith("float_") or kind.startswith("decimal_"):
        return _("Enter a number.")
    if kind.startswith("date") or kind.startswith("datetime"):
        return _("Enter a valid date.")
    if kind in ("less_than_equal", "less_than"):
        return _("At most %(max)s.") % {"max": ctx.get("le", ctx.get("lt"))}
    if kind in ("greater_than_equal", "greater_than"):
        return _("At least %(min)s.") % {"min": ctx.get("ge", ctx.get("gt"))}
    if kind in ("enum", "literal_error"):
        return _("Choose one of the allowed values.")
    if kind in ("json_invalid", "model_attributes_type", "dict_type"):
        return _("The request body is not valid JSON of the expected shape.")
    return _("This value is not valid.")


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        return api.create_response(
            request,
            error_body(
                exc.code, exc.detail, {k: [str(m) for m in v] for k, v in exc.fields.items()}
            ),
            status=exc.http_status,
        )

    @api.exception_handler(NinjaValidationError)
    def validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        fields: dict[str, list[str]] = {}
        for error in exc.errors:
            fields.setdefault(_location_name(list(error.get("loc", []))), []).append(
                _validation_message(error)
            )
        return api.create_response(
            request,
            error_body("validation_failed", _("Some fields are not valid."), fields),
            status=422,
        )

    @api.exception_handler(AuthenticationError)
    def auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return api.create_response(
            request,
            error_body(
                "not_authenticated",
                _("Log in, or send a valid API token: Authorization: Bearer <token>."),
            ),
            status=401,
        )

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return api.create_response(request, error_body("not_found", _("Not found.")), status=404)

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return api.create_response(
            request, error_body("http_error", str(exc)), status=exc.status_code
        )
