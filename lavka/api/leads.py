"""The leads endpoints of the API: list, get, create, update (If-Match), convert; and
the public capture endpoint a website's server may call without a token.

The same selectors and services as the web pages."""

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from lavka.api.concurrency import expected_version, set_etag
from lavka.api.errors import error_body
from lavka.api.pagination import LimitOffset
from lavka.clients.selectors import client_get
from lavka.core.errors import NotFound, ValidationFailed
from lavka.identity.selectors import user_get
from lavka.leads.errors import PossibleDuplicates
from lavka.leads.selectors import lead_get, lead_list, web_form_public
from lavka.leads.services import (
    lead_capture,
    lead_convert,
    lead_create,
    lead_status_set,
    lead_update,
)
from lavka.sales.selectors.pipelines import pipeline_get

router = Router(tags=["leads"])

SourceName = Literal[
    "web_form", "api", "import", "manual", "phone", "email", "event", "referral", "other"
]
StatusName = Literal["new", "in_work", "qualified", "disqualified", "converted"]


class UserRef(Schema):
    id: int
    username: str


class LeadOut(Schema):
    id: int
    external_id: str = Field(description="The lead's id in the file it was imported from.")
    company: str
    contact_name: str
    email: str
    phone: str = Field(description="E.164")
    inn: str
    message: str
    source: str
    web_form_id: int | None
    campaign: str
    utm_source: str
    utm_medium: str
    utm_campaign: str
    page_url: str
    status: str
    disqualify_reason: str
    owner: UserRef
    team_id: int | None
    client_id: int | None = Field(description="The client the lead became.")
    person_id: int | None
    deal_id: int | None
    converted_at: dt.datetime | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class LeadIn(Schema):
    company: str = Field("", max_length=200)
    contact_name: str = Field("", max_length=200)
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=40)
    inn: str = Field("", max_length=12)
    message: str = Field("", max_length=5000)
    source: SourceName = "api"
    campaign: str = Field("", max_length=100)
    utm_source: str = Field("", max_length=100)
    utm_medium: str = Field("", max_length=100)
    utm_campaign: str = Field("", max_length=100)
    page_url: str = Field("", max_length=500)
    owner_id: int | None = Field(None, description="Default: the caller.")


class LeadPatch(Schema):
    company: str | None = Field(None, max_length=200)
    contact_name: str | None = Field(None, max_length=200)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)
    inn: str | None = Field(None, max_length=12)
    message: str | None = Field(None, max_length=5000)
    source: SourceName | None = None
    campaign: str | None = Field(None, max_length=100)
    owner_id: int | None = None
    status: Literal["new", "in_work", "qualified", "disqualified"] | None = Field(
        None, description="Setting disqualified needs disqualify_reason."
    )
    disqualify_reason: str | None = Field(None, max_length=300)


class LeadFilters(Schema):
    status: Literal["", "open", "new", "in_work", "qualified", "disqualified", "converted"] = ""
    source: str = ""
    owner: int | None = None
    web_form: int | None = None
    q: str = ""


class ConvertIn(Schema):
    client_id: int | None = Field(
        None, description="Attach to this existing client instead of creating one."
    )
    create_new: bool = Field(
        False, description="Create a new client even if the duplicate check finds some."
    )
    deal_title: str = Field("", max_length=200)
    amount: Decimal | None = None
    currency: str = Field("", max_length=3)
    pipeline_id: int | None = Field(None, description="Default: the default pipeline.")


class ConvertOut(Schema):
    lead: LeadOut
    client_id: int
    client_created: bool
    person_id: int | None
    deal_id: int


class DuplicateOut(Schema):
    client_id: int
    name: str
    score: int
    reasons: list[str]


class DuplicatesError(Schema):
    code: str
    detail: str
    fields: dict[str, list[str]]
    candidates: list[DuplicateOut]


class ErrorOut(Schema):
    code: str
    detail: str
    fields: dict[str, list[str]]


class CaptureIn(Schema):
    company: str = ""
    contact_name: str = ""
    email: str = ""
    phone: str = ""
    message: str = ""
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    page_url: str = ""
    website: str = Field("", description="The honeypot: leave empty.")


class CaptureOut(Schema):
    ok: bool
    message: str


@router.get("/leads", response=list[LeadOut], operation_id="list_leads")
@paginate(LimitOffset)
def list_leads(request: HttpRequest, filters: Query[LeadFilters]):  # type: ignore[no-untyped-def]
    return lead_list(
        viewer=request.user,
        status=filters.status,
        source=filters.source,
        owner_id=filters.owner,
        web_form_id=filters.web_form,
        query=filters.q,
    )


@router.get("/leads/{lead_id}", response=LeadOut, operation_id="get_lead")
def get_lead(request: HttpRequest, response: HttpResponse, lead_id: int):  # type: ignore[no-untyped-def]
    lead = lead_get(viewer=request.user, lead_id=lead_id)
    set_etag(response, lead)
    return lead


def _owner(request: HttpRequest, owner_id: int) -> Any:
    try:
        return user_get(viewer=request.user, user_id=owner_id)
    except NotFound:
        raise ValidationFailed(fields={"owner_id": ["No such user."]}) from None


@router.post("/leads", response={201: LeadOut}, operation_id="create_lead")
def create_lead(request: HttpRequest, response: HttpResponse, payload: LeadIn):  # type: ignore[no-untyped-def]
    data = payload.dict()
    owner_id = data.pop("owner_id")
    lead = lead_create(
        actor=request.user,
        owner=_owner(request, owner_id) if owner_id else None,
        **data,
    )
    lead = lead_get(viewer=request.user, lead_id=lead.pk)
    set_etag(response, lead)
    response["Location"] = f"/api/v1/leads/{lead.pk}"
    return Status(201, lead)


@router.patch("/leads/{lead_id}", response=LeadOut, operation_id="update_lead")
def update_lead(
    request: HttpRequest,
    response: HttpResponse,
    lead_id: int,
    payload: LeadPatch,
):  # type: ignore[no-untyped-def]
    """Change fields, the owner and/or the status. Needs If-Match with the ETag."""
    lead = lead_get(viewer=request.user, lead_id=lead_id)
    version = expected_version(request, lead)
    changes = payload.dict(exclude_unset=True)
    status = changes.pop("status", None)
    reason = changes.pop("disqualify_reason", None)
    owner_id = changes.pop("owner_id", None)
    changes = {k: v for k, v in changes.items() if v is not None}
    if changes or owner_id:
        lead = lead_update(
            actor=request.user,
            lead=lead,
            expected_version=version,
            owner=_owner(request, owner_id) if owner_id else None,
            **changes,
        )
        version = lead.version
    if status is not None or reason is not None:
        lead_status_set(
            actor=request.user,
            lead=lead,
            status=status or lead.status,
            reason=reason if reason is not None else lead.disqualify_reason,
            expected_version=version,
        )
    lead = lead_get(viewer=request.user, lead_id=lead_id)
    set_etag(response, lead)
    return lead


@router.post(
    "/leads/{lead_id}/convert",
    response={200: ConvertOut, 409: DuplicatesError},
    operation_id="convert_lead",
)
def convert_lead(request: HttpRequest, response: HttpResponse, lead_id: int, payload: ConvertIn):  # type: ignore[no-untyped-def]
    """Client + contact person + deal in one step. When the lead looks like existing
    clients (email, phone, INN, similar name) and neither `client_id` nor `create_new`
    is given, answers 409 `possible_duplicates` with the candidates. If-Match is
    optional: with it, a stale ETag is 409 `stale_version`."""
    lead = lead_get(viewer=request.user, lead_id=lead_id)
    version = expected_version(request, lead) if request.headers.get("If-Match") else None
    attach_to = None
    if payload.client_id is not None:
        try:
            attach_to = client_get(viewer=request.user, client_id=payload.client_id)
        except NotFound:
            raise ValidationFailed(fields={"client_id": ["No such client."]}) from None
    pipeline = (
        pipeline_get(viewer=request.user, pipeline_id=payload.pipeline_id)
        if payload.pipeline_id
        else None
    )
    try:
        result = lead_convert(
            actor=request.user,
            lead=lead,
            attach_to=attach_to,
            create_new=payload.create_new,
            deal_title=payload.deal_title,
            amount=payload.amount,
            currency=payload.currency,
            pipeline=pipeline,
            expected_version=version,
        )
    except PossibleDuplicates as exc:
        return Status(
            409,
            {
                **error_body(exc.code, exc.detail, {"client_id": exc.fields["client"]}),
                "candidates": [
                    {
                        "client_id": m.client.pk,
                        "name": m.client.name,
                        "score": m.score,
                        "reasons": m.reasons,
                    }
                    for m in exc.matches
                ],
            },
        )
    lead = lead_get(viewer=request.user, lead_id=lead_id)
    set_etag(response, lead)
    return {
        "lead": lead,
        "client_id": result.client.pk,
        "client_created": result.client_created,
        "person_id": result.person.pk if result.person else None,
        "deal_id": result.deal.pk,
    }


@router.post(
    "/forms/{key}/leads",
    auth=None,
    response={201: CaptureOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    operation_id="capture_lead",
)
def capture_lead(request: HttpRequest, key: str, payload: CaptureIn):  # type: ignore[no-untyped-def]
    """The public capture endpoint of a web form, for a website's server (no token:
    the form's secret key in the URL is the credential). The same checks as the
    form's own endpoint `/f/{key}/submit/` that browsers post to: rate limits per
    address and per form (429), the honeypot field `website` (filled: a normal answer,
    no lead), messages in the form's language (422)."""
    form = web_form_public(key=key)
    result = lead_capture(
        form=form,
        data=payload.dict(),
        ip=request.META.get("REMOTE_ADDR") or None,
        # A browser page elsewhere is held to the form's allowed websites here too.
        origin=request.headers.get("Origin", ""),
        own_origin=f"{request.scheme}://{request.get_host()}",
        page_url=payload.page_url,
    )
    return Status(201, {"ok": True, "message": result.message})
