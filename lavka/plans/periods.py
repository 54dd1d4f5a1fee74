"""Plan periods: a calendar month or quarter, named by its first day."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from django.db import models
from django.utils.dates import MONTHS
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# A month as one integer (year * 12 + month - 1), so that "a year earlier" is "- 12".
MonthIndex = int


class Granularity(models.TextChoices):
    MONTH = "month", gettext_lazy("Month")
    QUARTER = "quarter", gettext_lazy("Quarter")


def month_index(year: int, month: int) -> MonthIndex:
    return year * 12 + month - 1


def month_of(index: MonthIndex) -> tuple[int, int]:
    return index // 12, index % 12 + 1


def month_first_day(index: MonthIndex) -> dt.date:
    year, month = month_of(index)
    return dt.date(year, month, 1)


def month_last_day(index: MonthIndex) -> dt.date:
    year, month = month_of(index)
    return dt.date(year, month, calendar.monthrange(year, month)[1])


@dataclass(frozen=True)
class Period:
    start: dt.date
    granularity: str

    @classmethod
    def containing(cls, day: dt.date, granularity: str = Granularity.MONTH) -> Period:
        month = day.month if granularity == Granularity.MONTH else (day.month - 1) // 3 * 3 + 1
        return cls(dt.date(day.year, month, 1), str(granularity))

    @classmethod
    def parse(cls, key: str) -> Period | None:
        """From a URL key: "2026-12" (a month) or "2026-Q4" (a quarter); None if invalid."""
        year_text, _sep, rest = (key or "").strip().upper().partition("-")
        if not year_text.isdigit() or not 1900 <= int(year_text) <= 9999:
            return None
        year = int(year_text)
        if rest.startswith("Q") and rest[1:] in ("1", "2", "3", "4"):
            return cls(dt.date(year, (int(rest[1:]) - 1) * 3 + 1, 1), Granularity.QUARTER)
        if rest.isdigit() and 1 <= int(rest) <= 12:
            return cls(dt.date(year, int(rest), 1), Granularity.MONTH)
        return None

    @property
    def is_valid(self) -> bool:
        if self.start.day != 1 or self.granularity not in Granularity.values:
            return False
        return self.granularity == Granularity.MONTH or self.start.month in (1, 4, 7, 10)

    @property
    def months(self) -> list[MonthIndex]:
        first = month_index(self.start.year, self.start.month)
        return list(range(first, first + (1 if self.granularity == Granularity.MONTH else 3)))

    @property
    def end(self) -> dt.date:
        return month_last_day(self.months[-1])

    @property
    def key(self) -> str:
        if self.granularity == Granularity.QUARTER:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.year}-{self.start.month:02d}"

    @property
    def label(self) -> str:
        if self.granularity == Granularity.QUARTER:
            return _("Q%(quarter)s %(year)s") % {
                "quarter": (self.start.month - 1) // 3 + 1,
                "year": self.start.year,
            }
        return f"{MONTHS[self.start.month]} {self.start.year}"

    def shifted(self, steps: int) -> Period:
        """The period `steps` periods later (earlier when negative)."""
        size = 1 if self.granularity == Granularity.MONTH else 3
        return Period(month_first_day(self.months[0] + steps * size), self.granularity)
