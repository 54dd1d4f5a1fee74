"""API authentication: a personal token (`Authorization: Bearer lvk_...`) or the
browser session (with CSRF for writes). Read-only tokens cannot write."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import translation
from ninja.security import HttpBearer
from ninja.security.session import SessionAuth

from lavka.core.errors import NotPermitted
from lavka.identity.models import ApiToken
from lavka.identity.permissions import can_use_api
from lavka.identity.services import api_token_authenticate

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class TokenAuth(HttpBearer):
    """Bearer token. A revoked, unknown or read-only-for-a-write token is refused."""

    openapi_description = "Personal API token: Authorization: Bearer lvk_..."

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = api_token_authenticate(token)
        if found is None:
            return None
        user, api_token = found
        if not can_use_api(user):
            return None
        if request.method not in SAFE_METHODS and api_token.scope != ApiToken.Scope.READ_WRITE:
            raise NotPermitted(action="write", resource="api_token")
        request.user = user
        request.api_token = api_token  # type: ignore[attr-defined]
        return user


class BrowserSession(SessionAuth):
    """The logged-in browser session; ninja checks the CSRF token on writes."""


class ApiLanguageMiddleware:
    """API messages in the request's language: Accept-Language, else the user's own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not (request.path.startswith("/api/") and "HTTP_ACCEPT_LANGUAGE" in request.META):
            return self.get_response(request)
        language = translation.get_language_from_request(request)
        with translation.override(language):
            request.LANGUAGE_CODE = language
            return self.get_response(request)
