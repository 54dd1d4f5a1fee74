"""Web views of the timeline: the card's touchpoints and tasks section, My tasks, and
the calendar feed (its page and the secret .ics URL)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from lavka.clients.models import Client, Person, Touchpoint
from lavka.clients.permissions import can_edit_client
from lavka.clients.selectors import client_get
from lavka.clients.selectors.timeline import (
    TIMELINE_SIZE,
    calendar_feed,
    calendar_user_get,
    client_contact_status,
    task_get,
    task_list,
    touchpoint_list,
)
from lavka.clients.services.timeline import (
    calendar_token_rotate,
    task_complete,
    task_create,
    touchpoint_log,
)
from lavka.core.errors import DomainError
from lavka.identity.access import Action, Area, can_access, team_ids_prime
from lavka.web.errors import form_errors_from
from lavka.web.requests import AuthedRequest

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class TouchpointForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Touchpoint.Kind.choices)
    direction = forms.ChoiceField(
        label=_("Direction"), choices=Touchpoint.Direction.choices, required=False
    )
    occurred_at = forms.DateTimeField(label=_("When"), widget=DATETIME_WIDGET, required=False)
    duration_minutes = forms.IntegerField(
        label=_("Duration, min"), min_value=0, max_value=1440, required=False
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=Touchpoint.Outcome.choices, required=False
    )
    subject = forms.CharField(label=_("Subject"), max_length=300, required=False)
    body = forms.CharField(
        label=_("What was said"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    person = forms.ModelChoiceField(
        label=_("Contact person"), queryset=Person.objects.none(), required=False
    )

    def __init__(self, *args: Any, client: Client, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = Person.objects.filter(employments__organisation_id=client.pk).distinct()
        person_field = self.fields["person"]
        assert isinstance(person_field, forms.ModelChoiceField)
        person_field.queryset = people
        if not people.exists():
            del self.fields["person"]


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Next step"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=Touchpoint.Kind.choices)
    due_at = forms.DateTimeField(label=_("Due"), widget=DATETIME_WIDGET)
    remind_at = forms.DateTimeField(label=_("Remind at"), widget=DATETIME_WIDGET, required=False)
    assignee = forms.ModelChoiceField(label=_("Assignee"), queryset=get_user_model().objects.none())

    def __init__(self, *args: Any, client: Client, viewer: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = assignee_choices(client)
        field.initial = viewer.pk


def assignee_choices(client: Client) -> Any:
    """Active users who can read the client: who a task may be given to."""
    users = list(get_user_model().objects.filter(is_active=True).select_related("role", "team"))
    team_ids_prime(users)  # one query for every user's team tree, not one per user
    allowed = [
        u.pk
        for u in users
        if can_access(
            u,
            area=Area.CLIENTS,
            action=Action.READ,
            owner_id=client.owner_id,
            team_id=client.team_id,
        )
    ]
    return get_user_model().objects.filter(pk__in=allowed).order_by("first_name", "username")


def timeline_context(
    viewer: Any,
    client: Any,
    *,
    touchpoint_form: TouchpointForm | None = None,
    task_form: TaskForm | None = None,
    just_logged: int | None = None,
) -> dict[str, Any]:
    """Extra context for the client card: the latest 50 touchpoints (a fixed number of
    queries), open tasks, the contact status against the tier's norm, and the forms."""
    can_edit = can_edit_client(viewer, client)
    touchpoints = list(
        touchpoint_list(viewer=viewer, client=client, with_participants=False)[:TIMELINE_SIZE]
    )
    open_tasks = list(task_list(viewer=viewer, client=client, status="open"))
    now = timezone.now()
    if can_edit and touchpoint_form is None:
        touchpoint_form = TouchpointForm(
            client=client,
            initial={"kind": Touchpoint.Kind.CALL, "direction": Touchpoint.Direction.OUTBOUND},
            auto_id="tp_%s",
        )
    if can_edit and task_form is None:
        task_form = TaskForm(client=client, viewer=viewer, auto_id="task_%s")
    return {
        "timeline_loaded": True,
        "timeline_client": client,
        "touchpoints": touchpoints,
        "touchpoints_more": len(touchpoints) == TIMELINE_SIZE,
        "open_tasks": open_tasks,
        "contact_status": client_contact_status(client, now=now),
        "timeline_can_edit": can_edit,
        "touchpoint_form": touchpoint_form,
        "task_form": task_form,
        "just_logged": just_logged,
        "now": now,
    }


def _section(
    request: AuthedRequest, client: Client, *, status: str = "", **extra: Any
) -> HttpResponse:
    """The timeline section; for an htmx change only its content, plus the status line
    that the section's live region announces."""
    context = {
        "client": client,
        **timeline_context(request.user, client, **extra),
        "timeline_partial": bool(request.htmx) and request.method == "POST",  # type: ignore[attr-defined]
        "timeline_status": status,
    }
    return render(request, "web/clients/card/_timeline.html", context)


@login_required
@require_GET
def show_timeline(request: AuthedRequest, client_id: int) -> HttpResponse:
    """The card's timeline section alone (loaded by htmx, or after a change)."""
    client = client_get(viewer=request.user, client_id=client_id)
    return _section(request, client)


@login_required
@require_POST
def log_touchpoint(request: AuthedRequest, client_id: int) -> HttpResponse:
    client = client_get(viewer=request.user, client_id=client_id)
    form = TouchpointForm(request.POST, client=client, auto_id="tp_%s")
    logged = None
    if form.is_valid():
        data = dict(form.cleaned_data)
        try:
            logged = touchpoint_log(
                actor=request.user, client=client, participants=[request.user], **data
            )
        except DomainError as exc:
            if exc.http_status in (403, 404):
                raise
            form_errors_from(form, exc)
    if logged is None:
        return _section(
            request, client, touchpoint_form=form, status=gettext("The touchpoint was not logged.")
        )
    if not request.htmx:  # type: ignore[attr-defined]
        return redirect("clients:show", client_id=client.pk)
    return _section(request, client, just_logged=logged.pk, status=gettext("Touchpoint logged."))


@login_required
@require_POST
def plan_task(request: AuthedRequest, client_id: int) -> HttpResponse:
    client = client_get(viewer=request.user, client_id=client_id)
    form = TaskForm(request.POST, client=client, viewer=request.user, auto_id="task_%s")
    if form.is_valid():
        try:
            task_create(actor=request.user, client=client, **form.cleaned_data)
        except DomainError as exc:
            if exc.http_status in (403, 404):
                raise
            form_errors_from(form, exc)
        else:
            if not request.htmx:  # type: ignore[attr-defined]
                return redirect("clients:show", client_id=client.pk)
            return _section(request, client, status=gettext("Next step planned."))
    return _section(request, client, task_form=form, status=gettext("The task was not planned."))


@login_required
@require_POST
def complete_task(request: AuthedRequest, task_id: int) -> HttpResponse:
    task = task_get(viewer=request.user, task_id=task_id)
    task_complete(actor=request.user, task=task)
    back_to = request.POST.get("from", "")
    if back_to == "card" and task.client_id is not None:
        client = client_get(viewer=request.user, client_id=task.client_id)
        if request.htmx:  # type: ignore[attr-defined]
            return _section(request, client, status=gettext("Task completed."))
        return redirect("clients:show", client_id=client.pk)
    if request.htmx:  # type: ignore[attr-defined]
        context = {**my_tasks_context(request.user), "tasks_status": gettext("Task completed.")}
        return render(request, "web/timeline/_my_tasks.html", context)
    return redirect("timeline:my_tasks")


def my_tasks_context(viewer: Any) -> dict[str, Any]:
    """The viewer's open tasks in three groups: overdue, today, upcoming."""
    now = timezone.now()
    today_end = timezone.localtime(now).replace(hour=23, minute=59, second=59, microsecond=999999)
    tasks = list(task_list(viewer=viewer, assignee_id=viewer.pk, status="open"))
    return {
        "overdue": [t for t in tasks if t.due_at < now],
        "today": [t for t in tasks if now <= t.due_at <= today_end],
        "upcoming": [t for t in tasks if t.due_at > today_end],
        "task_count": len(tasks),
    }


@login_required
@require_GET
def my_tasks(request: AuthedRequest) -> HttpResponse:
    return render(request, "web/timeline/my_tasks.html", my_tasks_context(request.user))


@login_required
def calendar(request: AuthedRequest) -> HttpResponse:
    """The page with the user's secret feed URL and a button for a new one."""
    if request.method == "POST":
        calendar_token_rotate(actor=request.user)
        return redirect("timeline:calendar")
    token = request.user.calendar_token
    feed_url = (
        request.build_absolute_uri(reverse("timeline:calendar_feed", args=[token])) if token else ""
    )
    return render(request, "web/timeline/calendar.html", {"feed_url": feed_url})


@require_GET
def calendar_feed_ics(request: HttpRequest, token: str) -> HttpResponse:
    """The feed itself: no login (calendar programs cannot log in); the secret in the
    URL is the key. An unknown or rotated token is 404."""
    user = calendar_user_get(token=token)
    response = HttpResponse(
        calendar_feed(user=user).encode("utf-8"), content_type="text/calendar; charset=utf-8"
    )
    response["Cache-Control"] = "private, max-age=300"
    response["Content-Disposition"] = 'inline; filename="lavka.ics"'
    return response


app_name = "timeline"
urlpatterns: list[Any] = [
    path("clients/<int:client_id>/timeline/", show_timeline, name="show"),
    path("clients/<int:client_id>/touchpoints/", log_touchpoint, name="log"),
    path("clients/<int:client_id>/tasks/", plan_task, name="plan"),
    path("tasks/", my_tasks, name="my_tasks"),
    path("tasks/<int:task_id>/complete/", complete_task, name="complete"),
    path("calendar/", calendar, name="calendar"),
    path("calendar/<str:token>.ics", calendar_feed_ics, name="calendar_feed"),
]
