"""Errors of the leads area, each with a stable code."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from lavka.core.errors import DomainError


class LeadAlreadyConverted(DomainError):
    code = "lead_already_converted"
    message = _("This lead has already been converted.")


class PossibleDuplicates(DomainError):
    """The lead looks like existing clients: the caller must choose one of `matches`
    to attach to, or ask to create a new client anyway."""

    code = "possible_duplicates"
    message = _(
        "Clients like this one already exist: attach the lead to one of them, "
        "or create a new client anyway."
    )

    def __init__(self, *, matches: list[Any]) -> None:
        super().__init__(fields={"client": [str(self.message)]})
        self.matches = matches


class CaptureRefused(DomainError):
    """A public form submission that is not accepted (unknown form, other website)."""

    code = "capture_refused"
    http_status = 403
    message = _("This form does not accept submissions from this website.")


class CaptureThrottled(DomainError):
    code = "too_many_submissions"
    http_status = 429
    message = _("Too many submissions. Please try again in a few minutes.")
