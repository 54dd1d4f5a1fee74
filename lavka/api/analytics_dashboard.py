"""Analytics endpoints: dashboard (see `lavka.web.views.analytics.dashboard` for the page)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["analytics"])
