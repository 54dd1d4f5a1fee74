"""The keyaccounts endpoints of the API (filled in by its work)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["keyaccounts"])
