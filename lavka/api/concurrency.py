"""ETag / If-Match: optimistic concurrency for every update endpoint.

GET returns `ETag: "<id>-<version>"`. PATCH and DELETE must send `If-Match` with that
value; a stale one gets 409 (stale_version), a missing one 428.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse

from lavka.core.errors import PreconditionRequired, StaleVersion


def set_etag(response: HttpResponse, obj: Any) -> None:
    response["ETag"] = obj.etag


def expected_version(request: HttpRequest, obj: Any) -> int:
    """The version the writer read, from If-Match; raises if missing or not this record's."""
    header = request.headers.get("If-Match", "").strip()
    if not header:
        raise PreconditionRequired()
    if header == "*":
        return int(obj.version)
    candidates = [h.strip().removeprefix("W/").strip('"') for h in header.split(",")]
    for candidate in candidates:
        pk, _, version = candidate.rpartition("-")
        if pk == str(obj.pk) and version.isdigit():
            return int(version)
    raise StaleVersion()
