"""Time units of the purchase models."""

from __future__ import annotations

from enum import IntEnum


class TimeUnit(IntEnum):
    """The unit of t_x, T and of the BG/NBD scale parameter alpha; the value is its
    length in days."""

    DAYS = 1
    WEEKS = 7


# A month for discounting lifetime value: the mean Gregorian month.
DAYS_PER_MONTH = 365.25 / 12

# The horizons the CRM shows expected purchases for.
HORIZONS_DAYS: tuple[int, ...] = (30, 90, 365)
