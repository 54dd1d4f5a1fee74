"""People API: contact persons and their employments (a person at an organisation,
with job title and role; a person can work at several). The same selectors and
services as the client card.

A person is visible to whoever may read them under the clients area's policy, or may
read one of the clients they work at; only the employments at clients the viewer may
read are shown."""

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from lavka.api.concurrency import expected_version, set_etag
from lavka.api.pagination import LimitOffset
from lavka.clients.identifiers import phone_display
from lavka.clients.models import Client, Person
from lavka.clients.selectors import client_get
from lavka.clients.selectors.blocks import employment_get, person_get, person_list
from lavka.clients.services.blocks import (
    employment_link,
    employment_unlink,
    employment_update,
    person_create,
    person_remove,
    person_update,
)
from lavka.core.errors import NotFound, ValidationFailed

router = Router(tags=["people"])


class OrganisationRef(Schema):
    id: int
    name: str


class EmploymentOut(Schema):
    id: int
    person_id: int
    organisation: OrganisationRef
    job_title: str
    role: str
    is_primary: bool
    is_current: bool


class PersonOut(Schema):
    id: int
    first_name: str
    middle_name: str
    last_name: str
    full_name: str
    email: str
    phone: str
    phone_display: str
    notes: str
    owner_id: int
    team_id: int | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    employments: list[EmploymentOut]

    @staticmethod
    def resolve_phone_display(obj: Any) -> str:
        return phone_display(obj.phone)

    @staticmethod
    def resolve_employments(obj: Any) -> list[Any]:
        return list(getattr(obj, "visible_employments", []))


class PersonIn(Schema):
    first_name: str = Field("", max_length=100)
    middle_name: str = Field("", max_length=100)
    last_name: str = Field("", max_length=100)
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=40)
    notes: str = ""
    organisation_id: int | None = Field(
        None, description="Link the new person to this organisation at once."
    )
    job_title: str = Field("", max_length=150)
    role: str = Field("", max_length=150, description="e.g. decides, approves, uses")


class PersonPatch(Schema):
    first_name: str | None = Field(None, max_length=100)
    middle_name: str | None = Field(None, max_length=100)
    last_name: str | None = Field(None, max_length=100)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)
    notes: str | None = None


class PersonFilters(Schema):
    q: str = Field("", max_length=200, description="Part of a name, an email or a phone.")
    client: int | None = Field(None, description="Only those who work at this client.")


class EmploymentIn(Schema):
    organisation_id: int
    job_title: str = Field("", max_length=150)
    role: str = Field("", max_length=150)
    is_primary: bool = False


class EmploymentPatch(Schema):
    job_title: str | None = Field(None, max_length=150)
    role: str | None = Field(None, max_length=150)
    is_primary: bool | None = None
    is_current: bool | None = None


def _organisation(request: HttpRequest, organisation_id: int) -> Client:
    """A client named in a request body: one the requester may see, else a field error
    (the same whether it is missing or not theirs)."""
    try:
        return client_get(viewer=request.user, client_id=organisation_id)
    except NotFound:
        raise ValidationFailed(
            fields={"organisation_id": [_("There is no such organisation.")]}
        ) from None


@contextmanager
def _organisation_field() -> Iterator[None]:
    """The services name the organisation `organisation`; the API's field is
    `organisation_id`."""
    try:
        yield
    except ValidationFailed as exc:
        if "organisation" in exc.fields:
            exc.fields["organisation_id"] = exc.fields.pop("organisation")
        raise


def _person_out(request: HttpRequest, response: HttpResponse, person: Person) -> Person:
    """The person as the requester sees them now (their visible employments), with
    the ETag."""
    person = person_get(viewer=request.user, person_id=person.pk)
    set_etag(response, person)
    return person


@router.get("/people", response=list[PersonOut], operation_id="list_people")
@paginate(LimitOffset)
def list_people(request: HttpRequest, filters: Query[PersonFilters]) -> Any:
    return person_list(viewer=request.user, query=filters.q, client_id=filters.client)


@router.post("/people", response={201: PersonOut}, operation_id="create_person")
def create_person(request: HttpRequest, response: HttpResponse, payload: PersonIn) -> Any:
    data = payload.dict()
    organisation_id = data.pop("organisation_id")
    organisation = _organisation(request, organisation_id) if organisation_id else None
    if organisation is None and (data["job_title"] or data["role"]):
        raise ValidationFailed(
            fields={"organisation_id": [_("Say where the job title and role apply.")]}
        )
    with _organisation_field():
        person = person_create(actor=request.user, organisation=organisation, **data)
    response["Location"] = f"/api/v1/people/{person.pk}"
    return Status(201, _person_out(request, response, person))


@router.get("/people/{person_id}", response=PersonOut, operation_id="get_person")
def get_person(request: HttpRequest, response: HttpResponse, person_id: int) -> Any:
    person = person_get(viewer=request.user, person_id=person_id)
    set_etag(response, person)
    return person


@router.patch("/people/{person_id}", response=PersonOut, operation_id="update_person")
def update_person(
    request: HttpRequest, response: HttpResponse, person_id: int, payload: PersonPatch
) -> Any:
    person = person_get(viewer=request.user, person_id=person_id)
    version = expected_version(request, person)
    person = person_update(
        actor=request.user,
        person=person,
        expected_version=version,
        **payload.dict(exclude_unset=True),
    )
    return _person_out(request, response, person)


@router.delete("/people/{person_id}", response={204: None}, operation_id="delete_person")
def delete_person(request: HttpRequest, person_id: int) -> Any:
    person = person_get(viewer=request.user, person_id=person_id)
    person_remove(
        actor=request.user, person=person, expected_version=expected_version(request, person)
    )
    return Status(204, None)


@router.post(
    "/people/{person_id}/employments",
    response={200: EmploymentOut, 201: EmploymentOut},
    operation_id="link_employment",
)
def link_employment(request: HttpRequest, person_id: int, payload: EmploymentIn) -> Any:
    """Link the person to an organisation; linking again changes the job title and role
    (200 instead of 201)."""
    person = person_get(viewer=request.user, person_id=person_id)
    organisation = _organisation(request, payload.organisation_id)
    existed = any(
        e.organisation_id == organisation.pk
        for e in person.visible_employments  # type: ignore[attr-defined]
    )
    with _organisation_field():
        employment = employment_link(
            actor=request.user,
            person=person,
            organisation=organisation,
            job_title=payload.job_title,
            role=payload.role,
            is_primary=payload.is_primary,
        )
    return Status(200 if existed else 201, employment)


@router.patch(
    "/people/{person_id}/employments/{employment_id}",
    response=EmploymentOut,
    operation_id="update_employment",
)
def update_employment(
    request: HttpRequest, person_id: int, employment_id: int, payload: EmploymentPatch
) -> Any:
    employment = employment_get(
        viewer=request.user, person_id=person_id, employment_id=employment_id
    )
    return employment_update(
        actor=request.user, employment=employment, **payload.dict(exclude_unset=True)
    )


@router.delete(
    "/people/{person_id}/employments/{employment_id}",
    response={204: None},
    operation_id="unlink_employment",
)
def unlink_employment(request: HttpRequest, person_id: int, employment_id: int) -> Any:
    employment = employment_get(
        viewer=request.user, person_id=person_id, employment_id=employment_id
    )
    employment_unlink(actor=request.user, employment=employment)
    return Status(204, None)
