"""Pages of the analytics area, one module per page family; `urls` collects them under
the `analytics` namespace. The tabs that join them are `web/analytics/_tabs.html`."""

from __future__ import annotations

from typing import Any

from lavka.web.views.analytics import buying, dashboard, economics, forecast, overview, reports

app_name = "analytics"
urlpatterns: list[Any] = [
    *dashboard.urlpatterns,
    *overview.urlpatterns,
    *buying.urlpatterns,
    *economics.urlpatterns,
    *reports.urlpatterns,
    *forecast.urlpatterns,
]
