"""The API at /api/v1/: one NinjaAPI, one router per domain app.

Docs (Swagger UI served from django-ninja's bundled files, no CDN) at /api/v1/docs,
the schema at /api/v1/openapi.json.
"""

from __future__ import annotations

from ninja import NinjaAPI

from lavka import __version__
from lavka.api import (
    analytics,
    analytics_buying,
    analytics_dashboard,
    analytics_economics,
    analytics_forecast,
    analytics_reports,
    card,
    clients,
    duplicates,
    files,
    identity,
    imports,
    keyaccounts,
    leads,
    people,
    plans,
    sales,
    timeline,
)
from lavka.api.auth import BrowserSession, TokenAuth
from lavka.api.errors import install_error_handlers

api = NinjaAPI(
    title="Lavka API",
    version=f"v1 ({__version__})",
    description=(
        "Authenticate with a personal API token (`Authorization: Bearer lvk_...`, created on "
        'your profile page) or a browser session. Errors are `{"code", "detail", '
        '"fields"}` in the language of `Accept-Language`. Lists take `limit`/`offset`. '
        "Updates need `If-Match` with the record's `ETag`; a stale one gets 409."
    ),
    auth=[TokenAuth(), BrowserSession()],
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
install_error_handlers(api)
api.add_router("/", identity.router)
api.add_router("/", clients.router)
api.add_router("/", card.router)
api.add_router("/", timeline.router)
api.add_router("/", imports.router)
api.add_router("/", duplicates.router)
api.add_router("/", people.router)
api.add_router("/", files.router)
api.add_router("/", sales.router)
api.add_router("/", leads.router)
api.add_router("/", keyaccounts.router)
api.add_router("/", plans.router)
api.add_router("/", analytics.router)
api.add_router("/", analytics_dashboard.router)
api.add_router("/", analytics_buying.router)
api.add_router("/", analytics_economics.router)
api.add_router("/", analytics_reports.router)
api.add_router("/", analytics_forecast.router)
