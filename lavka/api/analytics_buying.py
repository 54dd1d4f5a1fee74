"""Analytics endpoints: buying (see `lavka.web.views.analytics.buying` for the page)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["analytics"])
