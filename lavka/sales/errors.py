"""Sales' domain errors; each has a stable `code` (see lavka/core/errors.py)."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_lazy as _

from lavka.core.errors import DomainError, ValidationFailed


class ExchangeRateMissing(DomainError):
    """No rate for a currency on or before a date: the amount cannot be converted."""

    code = "exchange_rate_missing"

    def __init__(self, *, currency: str, on: dt.date) -> None:
        super().__init__(
            _("There is no exchange rate for %(currency)s on or before %(date)s. Enter one.")
            % {"currency": currency, "date": on.isoformat()}
        )
        self.currency = currency
        self.on = on


class StageHasDeals(ValidationFailed):
    """A stage with deals in it (the trash included) cannot simply be deleted."""

    code = "stage_has_deals"

    def __init__(self, *, count: int) -> None:
        message = _(
            "Deals are in this stage (%(count)s, the trash included). Move them to "
            "another stage first, or choose a stage to move them to."
        ) % {"count": count}
        super().__init__(message, fields={"stage": [str(message)]})
        self.count = count
