"""Analytics endpoints: forecast (see `lavka.web.views.analytics.forecast` for the page)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["analytics"])
