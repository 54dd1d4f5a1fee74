"""The paging convention every list endpoint follows.

`?limit=50&offset=0` (limit at most 500). The response is
{"items": [...], "count": N, "limit": L, "offset": O, "next": url-or-null}.
`count` is exact. Filters are plain query parameters named after fields
(`?owner=3&kind=person`), `q` is free-text search, `ordering` takes a field name
with an optional leading "-".
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import PaginationBase


class LimitOffset(PaginationBase):
    class Input(Schema):
        limit: int = Field(50, ge=1, le=500)
        offset: int = Field(0, ge=0)

    class Output(Schema):
        items: list[Any]
        count: int
        limit: int
        offset: int
        next: str | None

    items_attribute = "items"

    def paginate_queryset(
        self, queryset: QuerySet, pagination: Any, request: HttpRequest, **params: Any
    ) -> Any:
        limit = min(pagination.limit, settings.NINJA_PAGINATION_MAX_LIMIT)
        offset = pagination.offset
        count = queryset.count() if hasattr(queryset, "count") else len(queryset)
        next_url = None
        if offset + limit < count:
            query = request.GET.copy()
            query["offset"] = str(offset + limit)
            query["limit"] = str(limit)
            next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        return {
            "items": list(queryset[offset : offset + limit]),
            "count": count,
            "limit": limit,
            "offset": offset,
            "next": next_url,
        }
