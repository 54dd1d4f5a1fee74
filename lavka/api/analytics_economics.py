"""Analytics endpoints: economics (see `lavka.web.views.analytics.economics` for the page)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["analytics"])
