"""Timeline API: touchpoints and tasks, through the same services and selectors as the
web UI."""

import datetime as dt
from typing import Literal

from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from lavka.api.pagination import LimitOffset
from lavka.clients.models import Person
from lavka.clients.selectors import client_get
from lavka.clients.selectors.timeline import task_get, task_list, touchpoint_list
from lavka.clients.services.timeline import task_complete, task_create, touchpoint_log
from lavka.core.errors import ValidationFailed

router = Router(tags=["timeline"])

TouchpointKind = Literal["call", "meeting", "email", "message", "note", "visit"]
Direction = Literal["in", "out", ""]
Outcome = Literal["", "reached", "no_answer", "interested", "not_interested", "follow_up", "done"]


class TouchpointOut(Schema):
    id: int
    client_id: int
    kind: str
    channel: str
    direction: str
    occurred_at: dt.datetime
    duration_minutes: int | None
    outcome: str
    subject: str
    body: str
    person_id: int | None
    participant_ids: list[int]
    related: str
    created_by_id: int | None
    created_at: dt.datetime

    @staticmethod
    def resolve_participant_ids(obj) -> list[int]:  # type: ignore[no-untyped-def]
        return sorted(u.pk for u in obj.participants.all())


class TouchpointIn(Schema):
    kind: TouchpointKind
    occurred_at: dt.datetime | None = None
    channel: str = Field("", max_length=40)
    direction: Direction = ""
    duration_minutes: int | None = Field(None, ge=0, le=1440)
    outcome: Outcome = ""
    subject: str = Field("", max_length=300)
    body: str = ""
    participant_ids: list[int] = []
    person_id: int | None = None
    related: str = Field("", max_length=64)


class TaskOut(Schema):
    id: int
    client_id: int | None
    title: str
    description: str
    kind: str
    due_at: dt.datetime
    duration_minutes: int | None
    assignee_id: int
    remind_at: dt.datetime | None
    reminded_at: dt.datetime | None
    completed_at: dt.datetime | None
    completed_by_id: int | None
    result_id: int | None
    created_by_id: int | None
    created_at: dt.datetime


class TaskIn(Schema):
    title: str = Field(..., min_length=1, max_length=200)
    kind: TouchpointKind = "call"
    due_at: dt.datetime
    assignee_id: int | None = None
    remind_at: dt.datetime | None = None
    description: str = ""
    duration_minutes: int | None = Field(None, ge=0, le=1440)


class TaskCompleteIn(Schema):
    result: TouchpointIn | None = None


class TaskFilters(Schema):
    assignee: str | None = None
    status: Literal["open", "done", "all"] = "open"


def _users(ids: list[int], field: str) -> list:  # type: ignore[type-arg]
    users = list(get_user_model().objects.filter(pk__in=ids, is_active=True))
    if len(users) != len(set(ids)):
        raise ValidationFailed(fields={field: [_("Unknown user.")]})
    return users


def _touchpoint_args(payload: TouchpointIn) -> dict:  # type: ignore[type-arg]
    data = payload.dict()
    data["participants"] = _users(data.pop("participant_ids"), "participant_ids")
    person_id = data.pop("person_id")
    data["person"] = Person.objects.filter(pk=person_id).first() if person_id else None
    if person_id and data["person"] is None:
        raise ValidationFailed(fields={"person_id": [_("Unknown person.")]})
    return data


@router.get(
    "/clients/{client_id}/touchpoints",
    response=list[TouchpointOut],
    operation_id="list_touchpoints",
)
@paginate(LimitOffset)
def list_touchpoints(request: HttpRequest, client_id: int):  # type: ignore[no-untyped-def]
    client = client_get(viewer=request.user, client_id=client_id)
    return touchpoint_list(viewer=request.user, client=client)


@router.post(
    "/clients/{client_id}/touchpoints",
    response={201: TouchpointOut},
    operation_id="create_touchpoint",
)
def create_touchpoint(
    request: HttpRequest, response: HttpResponse, client_id: int, payload: TouchpointIn
):  # type: ignore[no-untyped-def]
    client = client_get(viewer=request.user, client_id=client_id)
    touchpoint = touchpoint_log(actor=request.user, client=client, **_touchpoint_args(payload))
    response["Location"] = f"/api/v1/clients/{client.pk}/touchpoints"
    return Status(201, touchpoint)


@router.get("/clients/{client_id}/tasks", response=list[TaskOut], operation_id="list_client_tasks")
@paginate(LimitOffset)
def list_client_tasks(request: HttpRequest, client_id: int, filters: Query[TaskFilters]):  # type: ignore[no-untyped-def]
    client = client_get(viewer=request.user, client_id=client_id)
    return task_list(viewer=request.user, client=client, status=filters.status)


@router.post("/clients/{client_id}/tasks", response={201: TaskOut}, operation_id="create_task")
def create_task(request: HttpRequest, client_id: int, payload: TaskIn):  # type: ignore[no-untyped-def]
    client = client_get(viewer=request.user, client_id=client_id)
    data = payload.dict()
    assignee_id = data.pop("assignee_id")
    assignee = _users([assignee_id], "assignee_id")[0] if assignee_id else None
    task = task_create(actor=request.user, client=client, assignee=assignee, **data)
    return Status(201, task)


@router.get("/tasks", response=list[TaskOut], operation_id="list_tasks")
@paginate(LimitOffset)
def list_tasks(request: HttpRequest, filters: Query[TaskFilters]):  # type: ignore[no-untyped-def]
    assignee_id: int | None = None
    if filters.assignee == "me":
        assignee_id = request.user.pk
    elif filters.assignee:
        try:
            assignee_id = int(filters.assignee)
        except ValueError:
            raise ValidationFailed(fields={"assignee": [_('Give a user id or "me".')]}) from None
    return task_list(viewer=request.user, assignee_id=assignee_id, status=filters.status)


@router.get("/tasks/{task_id}", response=TaskOut, operation_id="get_task")
def get_task(request: HttpRequest, task_id: int):  # type: ignore[no-untyped-def]
    return task_get(viewer=request.user, task_id=task_id)


@router.post("/tasks/{task_id}/complete", response=TaskOut, operation_id="complete_task")
def complete_task(request: HttpRequest, task_id: int, payload: TaskCompleteIn | None = None):  # type: ignore[no-untyped-def]
    task = task_get(viewer=request.user, task_id=task_id)
    result = _touchpoint_args(payload.result) if payload and payload.result else None
    return task_complete(actor=request.user, task=task, result=result)
