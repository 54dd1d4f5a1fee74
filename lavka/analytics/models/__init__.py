"""The analytics app's models, one module per concern: `runs` (a recompute and the
scores it stored), `kpi` (the dashboard's pre-aggregated figures), `costs` (acquisition
and retention costs) and `insights` (who buys what and when)."""

from lavka.analytics.models.costs import *  # noqa: F403
from lavka.analytics.models.insights import *  # noqa: F403
from lavka.analytics.models.kpi import *  # noqa: F403
from lavka.analytics.models.runs import (  # noqa: F401 (migrations 0001 refer to the defaults)
    ABC_CHOICES,
    SEGMENT_CHOICES,
    XYZ_CHOICES,
    AnalyticsSettings,
    ClientScore,
    ComputeRun,
    ProductScore,
    _default_abc,
    _default_xyz,
)

__all__ = [
    "ABC_CHOICES",
    "SEGMENT_CHOICES",
    "XYZ_CHOICES",
    "AnalyticsSettings",
    "ClientScore",
    "ComputeRun",
    "ProductScore",
]
