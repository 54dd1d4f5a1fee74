"""Analytics endpoints: reports (see `lavka.web.views.analytics.reports` for the page)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["analytics"])
