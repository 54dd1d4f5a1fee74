"""The request type of views behind login_required."""

from django.http import HttpRequest

from lavka.identity.models import User


class AuthedRequest(HttpRequest):
    user: User  # type: ignore[assignment]
