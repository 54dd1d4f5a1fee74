"""Clients API: the same services and selectors as the web UI."""

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from lavka.analytics.filters import scores_filter
from lavka.analytics.selectors import row_scores
from lavka.api.concurrency import expected_version, set_etag
from lavka.api.pagination import LimitOffset
from lavka.clients.selectors import client_get, client_list
from lavka.clients.services import client_create, client_delete, client_update
from lavka.identity.selectors import user_get
from lavka.imports.services import clients_bulk_upsert

router = Router(tags=["clients"])

Kind = Literal["organisation", "person"]


class UserRef(Schema):
    id: int
    username: str


class ClientOut(Schema):
    id: int
    kind: str
    name: str
    email: str
    phone: str
    city: str
    notes: str
    owner: UserRef
    team_id: int | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class ClientIn(Schema):
    name: str = Field(..., min_length=1, max_length=300)
    kind: Kind = "organisation"
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=40)
    city: str = Field("", max_length=120)
    notes: str = ""
    owner_id: int | None = None


class ClientPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=300)
    kind: Kind | None = None
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)
    city: str | None = Field(None, max_length=120)
    notes: str | None = None
    owner_id: int | None = None


class ClientFilters(Schema):
    q: str = ""
    kind: Kind | None = None
    owner: int | None = None
    ordering: Literal[
        "name",
        "-name",
        "created_at",
        "-created_at",
        "updated_at",
        "-updated_at",
        "clv",
        "-clv",
        "leave",
        "-leave",
        "next_purchase",
        "-next_purchase",
        "revenue",
        "-revenue",
    ] = "name"
    # The analytics filters (lavka.analytics.filters; validated there, so that a bad
    # value is refused with a message naming the parameter).
    segment: str | None = Field(None, description="RFM segment code(s), comma-separated")
    abc: str | None = Field(None, description="A, B or C (comma-separated for several)")
    xyz: str | None = Field(None, description="X, Y or Z (comma-separated for several)")
    stage: str | None = Field(None, description="lifecycle stage code(s), comma-separated")
    clv_min: str | None = Field(None, description="CLV at least, reporting currency")
    clv_max: str | None = Field(None, description="CLV at most, reporting currency")
    leave_min: str | None = Field(None, description="probability of leaving at least, %")
    leave_max: str | None = Field(None, description="probability of leaving at most, %")
    next_from: str | None = Field(None, description="next purchase on or after, YYYY-MM-DD")
    next_to: str | None = Field(None, description="next purchase on or before, YYYY-MM-DD")
    cohort: str | None = Field(None, description="month of the first purchase, YYYY-MM")
    bought: str | None = Field(None, description="a month with a purchase, YYYY-MM")
    segment_before: str | None = Field(
        None, description="RFM segment code(s) at the run the movement is counted from"
    )
    source: str | None = Field(None, description="acquisition channel (Client.source)")
    due_category: str | None = Field(None, description="product category id due to buy")


class ClientScoresOut(Schema):
    """The client's scores in the current recompute (`/clients/{id}/scores` has all)."""

    segment: str
    abc_xyz: str
    clv: float | None
    leave_probability: float | None = Field(..., description="1 - P(alive), 0..1")
    next_purchase_on: dt.date | None
    stage: str
    revenue: float
    currency: str


class ClientListOut(ClientOut):
    tier_id: int | None
    scores: ClientScoresOut | None = Field(
        None, description="null: no scores (none computed, or not yours to read)"
    )


class _ScoredPage:
    """The list as the paginator reads it (count, then one slice), with each client of
    the slice given its scores in one query."""

    def __init__(self, scored: Any, viewer: Any) -> None:
        self.scored, self.viewer = scored, viewer

    def count(self) -> int:
        return int(self.scored.count())

    def __getitem__(self, page: slice) -> list[Any]:
        clients = list(self.scored[page])
        scores = row_scores(viewer=self.viewer, clients=clients, run=self.scored.run)
        for client in clients:
            client.scores = scores.get(client.pk)
        return clients


@router.get("/clients", response=list[ClientListOut], operation_id="list_clients")
@paginate(LimitOffset)
def list_clients(request: HttpRequest, filters: Query[ClientFilters]):  # type: ignore[no-untyped-def]
    """Clients, with their scores from the current recompute. Besides `q`, `kind`,
    `owner`: the analytics filters (`segment`, `abc`, `xyz`, `stage`, `clv_min`,
    `clv_max`, `leave_min`, `leave_max` in percent, `next_from`, `next_to`, `cohort`,
    `bought`, `source`, `due_category`, `segment_before`), and `ordering` by `clv`,
    `leave`, `next_purchase` or `revenue` (clients without a value last). A score
    filter leaves out clients without scores. A bad value: 422 with
    `fields.<parameter>`."""
    clients = client_list(
        viewer=request.user,
        query=filters.q,
        kind=filters.kind or "",
        owner_id=filters.owner,
        ordering=filters.ordering,
    )
    params = filters.dict(exclude={"q", "kind", "owner", "ordering"}, exclude_none=True)
    params["sort"] = filters.ordering
    return _ScoredPage(scores_filter(clients, params, viewer=request.user), request.user)


class BulkUpsertIn(Schema):
    items: list[dict[str, Any]] = Field(
        ...,
        description="Clients as {field: value} with the import mapping's fields "
        "(external_id, name, kind, email, phone, inn, ..., tags, owner); at most 1,000.",
    )
    dry_run: bool = False


class BulkItemOut(Schema):
    index: int
    status: Literal["created", "updated", "unchanged", "duplicate", "rejected"]
    id: int | None
    errors: dict[str, list[str]]


class BulkUpsertOut(Schema):
    created: int
    updated: int
    unchanged: int
    duplicates: int
    rejected: int
    results: list[BulkItemOut]


# Registered before "/clients/{client_id}", which would otherwise take this path.
@router.post("/clients/bulk-upsert", response=BulkUpsertOut, operation_id="bulk_upsert_clients")
def bulk_upsert_clients(request: HttpRequest, payload: BulkUpsertIn):  # type: ignore[no-untyped-def]
    return clients_bulk_upsert(actor=request.user, items=payload.items, dry_run=payload.dry_run)


@router.get("/clients/{client_id}", response=ClientOut, operation_id="get_client")
def get_client(request: HttpRequest, response: HttpResponse, client_id: int):  # type: ignore[no-untyped-def]
    client = client_get(viewer=request.user, client_id=client_id)
    set_etag(response, client)
    return client


@router.post("/clients", response={201: ClientOut}, operation_id="create_client")
def create_client(request: HttpRequest, response: HttpResponse, payload: ClientIn):  # type: ignore[no-untyped-def]
    data = payload.dict()
    owner_id = data.pop("owner_id")
    owner = user_get(viewer=request.user, user_id=owner_id) if owner_id else None
    client = client_create(actor=request.user, owner=owner, **data)
    set_etag(response, client)
    response["Location"] = f"/api/v1/clients/{client.pk}"
    return Status(201, client)


@router.patch("/clients/{client_id}", response=ClientOut, operation_id="update_client")
def update_client(
    request: HttpRequest,
    response: HttpResponse,
    client_id: int,  # type: ignore[no-untyped-def]
    payload: ClientPatch,
):
    client = client_get(viewer=request.user, client_id=client_id)
    version = expected_version(request, client)
    changes = payload.dict(exclude_unset=True)
    owner_id = changes.pop("owner_id", None)
    if owner_id is not None:
        changes["owner"] = user_get(viewer=request.user, user_id=owner_id)
    client = client_update(actor=request.user, client=client, expected_version=version, **changes)
    set_etag(response, client)
    return client


@router.delete("/clients/{client_id}", response={204: None}, operation_id="delete_client")
def delete_client(request: HttpRequest, client_id: int):  # type: ignore[no-untyped-def]
    client = client_get(viewer=request.user, client_id=client_id)
    client_delete(
        actor=request.user, client=client, expected_version=expected_version(request, client)
    )
    return Status(204, None)
