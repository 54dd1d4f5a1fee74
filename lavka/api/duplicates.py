"""API: one-box search, duplicate pairs, merge and undo. The same selectors and
services as the web UI."""

import datetime as dt
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from lavka.api.pagination import LimitOffset
from lavka.clients.selectors import client_get
from lavka.clients.selectors.duplicates import duplicate_get, duplicate_list, merge_get
from lavka.clients.services.duplicates import duplicate_dismiss
from lavka.clients.services.merge import client_merge, client_merge_undo
from lavka.search.selectors import search_everything

router = Router(tags=["search and duplicates"])


class ClientBrief(Schema):
    id: int
    name: str
    kind: str
    email: str
    phone: str
    city: str
    inn: str


class ClientHit(Schema):
    score: float
    exact: bool
    client: ClientBrief


class PersonBrief(Schema):
    id: int
    full_name: str
    email: str
    phone: str


class PersonHit(Schema):
    score: float
    exact: bool
    person: PersonBrief


class ContractBrief(Schema):
    id: int
    number: str
    subject: str
    client_id: int


class ContractHit(Schema):
    score: float
    contract: ContractBrief


class SearchOut(Schema):
    query: str
    clients: list[ClientHit]
    people: list[PersonHit]
    contracts: list[ContractHit]


class SearchIn(Schema):
    q: str = Field("", max_length=200)
    limit: int = Field(8, ge=1, le=50)


@router.get("/search", response=SearchOut, operation_id="search")
def search(request: HttpRequest, params: Query[SearchIn]):  # type: ignore[no-untyped-def]
    results = search_everything(viewer=request.user, query=params.q, limit=params.limit)
    return {
        "query": results.query,
        "clients": [{"score": h.score, "exact": h.exact, "client": h.obj} for h in results.clients],
        "people": [{"score": h.score, "exact": h.exact, "person": h.obj} for h in results.people],
        "contracts": [{"score": h.score, "contract": h.obj} for h in results.contracts],
    }


class DuplicateOut(Schema):
    id: int
    a: ClientBrief
    b: ClientBrief
    score: int
    reasons: list[str]
    status: str
    detected_at: dt.datetime


class DuplicateFilters(Schema):
    status: Literal["open", "merged", "dismissed"] = "open"


@router.get("/duplicates", response=list[DuplicateOut], operation_id="list_duplicates")
@paginate(LimitOffset)
def list_duplicates(request: HttpRequest, filters: Query[DuplicateFilters]):  # type: ignore[no-untyped-def]
    return duplicate_list(viewer=request.user, status=filters.status)


@router.post(
    "/duplicates/{candidate_id}/dismiss", response=DuplicateOut, operation_id="dismiss_duplicate"
)
def dismiss_duplicate(request: HttpRequest, candidate_id: int):  # type: ignore[no-untyped-def]
    candidate = duplicate_get(viewer=request.user, candidate_id=candidate_id)
    return duplicate_dismiss(actor=request.user, candidate=candidate)


class MergeIn(Schema):
    other_id: int
    choices: dict[str, Literal["survivor", "merged"]] = {}


class MergeOut(Schema):
    id: int
    survivor_id: int
    merged_id: int
    moved: dict[str, list[int | list[int | str]]]
    merged_at: dt.datetime
    undone_at: dt.datetime | None


@router.post("/clients/{client_id}/merge", response={201: MergeOut}, operation_id="merge_client")
def merge_client(request: HttpRequest, client_id: int, payload: MergeIn):  # type: ignore[no-untyped-def]
    """Merge client `other_id` into this one; `choices` picks each field's side."""
    survivor = client_get(viewer=request.user, client_id=client_id)
    merged = client_get(viewer=request.user, client_id=payload.other_id)
    merge = client_merge(
        actor=request.user, survivor=survivor, merged=merged, choices=dict(payload.choices)
    )
    return Status(201, merge)


@router.post("/merges/{merge_id}/undo", response=MergeOut, operation_id="undo_merge")
def undo_merge(request: HttpRequest, merge_id: int):  # type: ignore[no-untyped-def]
    merge = merge_get(viewer=request.user, merge_id=merge_id)
    return client_merge_undo(actor=request.user, merge=merge)
