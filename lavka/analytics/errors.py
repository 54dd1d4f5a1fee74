"""Analytics' domain errors; each has a stable `code` (see lavka/core/errors.py)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from lavka.core.errors import DomainError


class RecomputeRunning(DomainError):
    """Another recompute has started and not finished: two would only compete."""

    code = "analytics_recompute_running"
    http_status = 409
    message = _("The analytics are being recomputed already. Wait until that run finishes.")
