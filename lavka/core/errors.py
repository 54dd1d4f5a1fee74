"""Domain errors. Each has a stable `code`; the API and the web map them once.

NotFound -> 404, NotPermitted -> 403, StaleVersion -> 409, anything else -> 422.
Messages are lazy translations, so they come out in the requester's language.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    code = "domain_error"
    http_status = 422
    message: Any = _("The request could not be carried out.")

    def __init__(self, message: Any = None, *, fields: dict[str, list[str]] | None = None) -> None:
        if message is not None:
            self.message = message
        self.fields = fields or {}
        super().__init__(str(self.message))

    @property
    def detail(self) -> str:
        return str(self.message)


class NotFound(DomainError):
    """The record does not exist, or the viewer may not see it: the two look the same."""

    code = "not_found"
    http_status = 404
    message = _("Not found.")

    def __init__(self, *, resource: str = "", id: Any = None) -> None:
        super().__init__()
        self.resource = resource
        self.id = id


class NotPermitted(DomainError):
    code = "not_permitted"
    http_status = 403
    message = _("You do not have permission to do this.")

    def __init__(self, *, action: str = "", resource: str = "") -> None:
        super().__init__()
        self.action = action
        self.resource = resource


class ValidationFailed(DomainError):
    """Input broke a rule; `fields` maps field names to messages."""

    code = "validation_failed"
    http_status = 422
    message = _("Some fields are not valid.")


class StaleVersion(DomainError):
    """The record changed since the writer read it (optimistic concurrency)."""

    code = "stale_version"
    http_status = 409
    message = _("This record was changed by someone else. Reload it and try again.")


class PreconditionRequired(DomainError):
    code = "precondition_required"
    http_status = 428
    message = _("Send the If-Match header with the ETag you read, to avoid overwriting changes.")
