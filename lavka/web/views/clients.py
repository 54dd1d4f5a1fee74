"""Client pages: list, card, create, edit, delete, export."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from lavka.analytics.filters import PARAMS as SCORE_PARAMS
from lavka.analytics.filters import SORTS as SCORE_SORTS
from lavka.analytics.filters import ScoredClients, scores_filter
from lavka.analytics.permissions import can_read_analytics
from lavka.analytics.selectors import RowScores, client_scores, row_scores
from lavka.clients.exports import client_export_start
from lavka.clients.models import Client, Tier, Touchpoint
from lavka.clients.permissions import can_create_client, can_edit_client
from lavka.clients.selectors import client_get, client_list
from lavka.clients.selectors.blocks import client_card
from lavka.clients.selectors.duplicates import client_history
from lavka.clients.selectors.lists import ClientPage
from lavka.clients.selectors.timeline import (
    TIMELINE_SIZE,
    client_contact_status,
    task_list,
    touchpoint_list,
)
from lavka.clients.services import client_create, client_delete, client_update
from lavka.core.errors import DomainError, ValidationFailed
from lavka.identity.models import Team
from lavka.keyaccounts.selectors import key_account_for_card
from lavka.web.errors import form_errors_from
from lavka.web.forms import ClientForm
from lavka.web.requests import AuthedRequest
from lavka.web.templatetags.lavka import money
from lavka.web.templatetags.times import Times
from lavka.web.views.card import card_context, client_sales, remember_each_field_html
from lavka.web.views.timeline import TouchpointForm

PAGE_SIZE = 50
# Only the first MAX_ROWS clients of a list can be paged through (pages 1..MAX_ROWS /
# PAGE_SIZE), as list views elsewhere stop too (Salesforce at 2,000 records, HubSpot and
# Zendesk at 10,000): a deeper page makes the database read and skip every row before it
# (2.1 s for page 99,999 at a million clients), and the last page of a score sort checks
# MAX_ROWS ids against the list (some 20 ms at 5,000). A page past it says so and how to
# reach the others (a filter, a search, the sort reversed); the last page has no "Next".
MAX_ROWS = 5_000


@login_required
def list_clients(request: AuthedRequest) -> HttpResponse:
    """The client list: filters, sortable columns, bulk actions, saved views. A page
    is one indexed LIMIT query plus a handful of small ones, whatever its size; the
    whole table is never counted (a search result, at most a few hundred ids, is).
    The analytics drill-down parameters (`abc`, `segment`, `clv_min`, `sort=-clv`...;
    lavka.analytics.filters) narrow and sort it by the current run's scores, show as
    removable chips, and the scores of the page's rows fill the analytics columns
    (`cols`), in one more query."""
    from django.contrib.auth import get_user_model

    from lavka.clients.models import Tag
    from lavka.clients.selectors.lists import (
        VIEW_FILTERS,
        client_page,
        client_rows,
        client_total,
        saved_views_visible_to,
    )
    from lavka.clients.services.lists import saved_view_save
    from lavka.search.selectors import client_ids_matching

    if request.method == "POST":
        try:
            view = saved_view_save(
                actor=request.user,
                name=request.POST.get("view_name", ""),
                filters={k: request.POST.get(k, "") for k in VIEW_FILTERS},
                is_shared=request.POST.get("view_shared") == "on",
            )
        except DomainError as exc:
            messages.error(request, exc.detail)
            return redirect(f"{reverse('clients:list')}?{request.POST.get('current', '')}")
        messages.success(request, _("The view “%(name)s” has been saved.") % {"name": view.name})
        return redirect(f"{reverse('clients:list')}?view={view.pk}")

    params: QueryDict = request.GET
    views = list(saved_views_visible_to(request.user))
    active_view = next((v for v in views if str(v.pk) == params.get("view")), None)
    if active_view is not None:
        # The view's filters, with whatever the user changed since (a sort click...).
        params = QueryDict(mutable=True)
        params.update(active_view.filters)
        for key in (*VIEW_FILTERS, *SCORE_PARAMS):
            if request.GET.get(key):
                params[key] = request.GET[key]
        if "cols" in request.GET:
            params.setlist("cols", request.GET.getlist("cols"))
    query = params.get("q", "").strip()
    kind = params.get("kind", "")
    sort = params.get("sort", "")
    tier = params.get("tier", "")
    tag = params.get("tag", "")
    owner = params.get("owner", "")
    team_param = params.get("team", "")
    team = Team.objects.filter(pk=int(team_param)).first() if team_param.isdigit() else None
    out_of_touch = params.get("out_of_touch") == "1"
    try:
        number = int(request.GET.get("page", "1"))
    except ValueError:
        number = 1
    ids = client_ids_matching(viewer=request.user, query=query) if query else None
    clients = client_list(
        viewer=request.user,
        query=query if query and ids is None else "",
        kind=kind,
        ordering=sort or "name",
        tier_id=int(tier) if tier.isdigit() else None,
        tag=tag,
        owner_id=int(owner) if owner.isdigit() else None,
        ids=ids,
        out_of_touch=out_of_touch,
        team_id=team.pk if team is not None else None,
    )
    # The analytics drill-down (?abc=A&xyz=X, ?sort=-clv...): lavka.analytics.filters.
    filter_errors: dict[str, list[str]] = {}
    try:
        scored = scores_filter(clients, params, viewer=request.user)
    except ValidationFailed as exc:
        filter_errors = exc.fields
        scored = ScoredClients(clients=clients.none(), applied=[], run=None)
    if ids is not None and (scored.applied or filter_errors):
        # A search's ranked ids (a few hundred at most) that pass the score filters.
        allowed = set(scored.clients.values_list("pk", flat=True))
        ids = [pk for pk in ids if pk in allowed]
    score_sort = scored.sort if not filter_errors else ""
    max_page = MAX_ROWS // PAGE_SIZE
    past_limit = number > max_page
    if past_limit:
        page = ClientPage(clients=[], number=number, size=PAGE_SIZE, has_next=False)
    elif ids is not None and not sort:
        # Best match first: the ranked ids of this page, in rank order.
        shown = ids[(max(1, number) - 1) * PAGE_SIZE : max(1, number) * PAGE_SIZE + 1]
        page = _page_of(scored.clients, shown, number)
    elif score_sort:
        # Best (or worst) by the score first: the page's ids from the scores' index.
        offset = (max(1, number) - 1) * PAGE_SIZE
        page = _page_of(scored.clients, scored.page_ids(offset, PAGE_SIZE + 1), number)
    else:
        page = client_page(client_rows(scored.clients), number=number, size=PAGE_SIZE)
    if filter_errors:
        page.total, page.total_exact = 0, True
    elif ids is not None and not (kind or tier or tag or owner or team or out_of_touch):
        page.count = len(ids)
    elif page.clients or (page.number > 1 and not past_limit):
        client_total(scored.clients, page)
    at_limit = page.number == max_page and page.has_next
    page.has_next = page.has_next and not at_limit
    tiers = list(Tier.objects.all())
    shows_scores = can_read_analytics(request.user)
    columns = _score_columns(params, scored, shown=shows_scores)
    scores = (
        row_scores(viewer=request.user, clients=page.clients, run=scored.run) if columns else {}
    )
    _prepare_rows(page.clients, tiers, scores=scores, columns=[c for c, _label in columns])
    analytics_current = {k: params[k] for k in SCORE_PARAMS if params.get(k)}
    filtered = bool(
        query
        or kind
        or tier
        or tag
        or owner
        or team
        or out_of_touch
        or scored.applied
        or filter_errors
    )
    current = {
        k: v
        for k, v in (
            ("q", query),
            ("kind", kind),
            ("sort", sort),
            ("tier", tier),
            ("tag", tag),
            ("owner", owner),
            ("team", str(team.pk) if team is not None else ""),
            ("out_of_touch", "1" if out_of_touch else ""),
            *analytics_current.items(),
        )
        if v
    }
    chips = [
        {"label": chip.label, "url": _without(params, chip.params), "params": chip.params}
        for chip in scored.applied
    ]
    if team is not None:  # the dashboard's team filter has no field in the toolbar
        label = _("Team: %(name)s") % {"name": team.name}
        chips.insert(0, {"label": label, "url": _without(params, ("team",)), "params": ("team",)})
    context = {
        "page": page,
        "page_limit": {
            "rows": MAX_ROWS,
            "page": max_page,
            "passed": past_limit,
            "reached": at_limit,
        },
        "query": query,
        "kind": kind,
        "sort": sort or "name",
        "tier": tier,
        "tag": tag,
        "owner": owner,
        "team": team,
        "out_of_touch": out_of_touch,
        "filtered": filtered,
        "current": current,
        "chips": chips,
        "filter_errors": [m for messages_ in filter_errors.values() for m in messages_],
        "invalid": set(filter_errors),
        "analytics": _analytics_form(params) if shows_scores else None,
        "score_columns": columns,
        "column_choices": SCORE_COLUMNS if shows_scores else [],
        "sort_choices": _sort_choices() if shows_scores else [],
        "table_sort": "name" if (sort or "name") in SCORE_SORTS else (sort or "name"),
        "kinds": Client.Kind.choices,
        "tiers": tiers,
        "tags": list(Tag.objects.order_by("name")[:200]),
        "owners": list(
            get_user_model()
            .objects.filter(is_active=True)
            .only("username", "first_name", "last_name")
            .order_by("last_name", "first_name")[:300]
        ),
        "views": views,
        "active_view": active_view,
        "can_create": can_create_client(request.user),
    }
    template = "web/clients/_rows.html" if request.htmx else "web/clients/list.html"  # type: ignore[attr-defined]
    return render(request, template, context)


def _page_of(clients: Any, ids: list[int], number: int) -> ClientPage:
    """A page of the list from the ids of its rows in order (one more than a page
    tells that there is a next one): their rows in one query, their tags in another."""
    from lavka.clients.selectors.lists import client_rows, client_tag_names

    rank = {pk: i for i, pk in enumerate(ids)}
    rows = sorted(client_rows(clients.filter(pk__in=ids)), key=lambda c: rank[c.pk])
    client_tag_names(rows[:PAGE_SIZE])
    return ClientPage(
        clients=rows[:PAGE_SIZE],
        number=max(1, number),
        size=PAGE_SIZE,
        has_next=len(rows) > PAGE_SIZE,
    )


def _without(params: QueryDict, keys: tuple[str, ...]) -> str:
    """The list's address without `keys` (a chip's "remove") and without the page."""
    rest = params.copy()
    for key in (*keys, "page"):
        rest.pop(key, None)
    encoded = rest.urlencode()
    return f"{reverse('clients:list')}?{encoded}" if encoded else reverse("clients:list")


# The analytics columns a user may add to the list (parameter `cols`, comma-separated
# or repeated). Without `cols`, a list filtered or sorted by the analytics (the
# dashboard's drill-down) shows DEFAULT_COLUMNS; the plain list shows none (its scores
# would be one more query on every page). The column of an active filter or sort always
# shows.
SCORE_COLUMNS = [
    ("segment", gettext_lazy("RFM segment")),
    ("abc_xyz", gettext_lazy("ABC-XYZ")),
    ("clv", gettext_lazy("CLV")),
    ("leave", gettext_lazy("Probability of leaving")),
    ("next_purchase", gettext_lazy("Next purchase")),
    ("stage", gettext_lazy("Lifecycle stage")),
]
DEFAULT_COLUMNS = ("segment", "clv", "leave")
COLUMN_OF = {
    "segment": "segment",
    "abc": "abc_xyz",
    "xyz": "abc_xyz",
    "stage": "stage",
    "clv_min": "clv",
    "clv_max": "clv",
    "leave_min": "leave",
    "leave_max": "leave",
    "next_from": "next_purchase",
    "next_to": "next_purchase",
}
SORT_COLUMN = {"clv": "clv", "leave": "leave", "next_purchase": "next_purchase"}


def _score_columns(
    params: QueryDict, scored: ScoredClients, *, shown: bool
) -> list[tuple[str, Any]]:
    """The analytics columns this page shows, in SCORE_COLUMNS' order."""
    if not shown:
        return []
    if "cols" in params:
        wanted = {c for value in params.getlist("cols") for c in value.split(",") if c}
    elif scored.applied or scored.sort:
        wanted = set(DEFAULT_COLUMNS)
    else:
        wanted = set()
    wanted |= {COLUMN_OF[k] for k in COLUMN_OF if params.get(k)}
    if scored.sort.lstrip("-") in SORT_COLUMN:
        wanted.add(SORT_COLUMN[scored.sort.lstrip("-")])
    return [(code, label) for code, label in SCORE_COLUMNS if code in wanted]


def _analytics_form(params: QueryDict) -> dict[str, Any]:
    """The analytics filters' fields with their choices and current values."""
    from lavka.analytics.engine.lifecycle import STAGE_LABELS, STAGES
    from lavka.analytics.engine.rfm import SEGMENT_LABELS, SEGMENTS

    return {
        "segments": [(str(s), SEGMENT_LABELS[s]) for s in SEGMENTS],
        "stages": [(s, STAGE_LABELS[s]) for s in STAGES],
        "values": {k: params.get(k, "") for k in SCORE_PARAMS},
        # Drill-down filters the panel has no field for, kept when another filter changes.
        "hidden": {
            k: params[k]
            for k in ("cohort", "bought", "source", "due_category", "segment_before")
            if params.get(k)
        },
        "open": any(params.get(k) for k in SCORE_PARAMS) or "cols" in params,
        "cols": {c for value in params.getlist("cols") for c in value.split(",") if c}
        if "cols" in params
        else set(DEFAULT_COLUMNS)
        if any(params.get(k) for k in SCORE_PARAMS) or params.get("sort", "") in SCORE_SORTS
        else set(),
    }


def _sort_choices() -> list[tuple[str, Any]]:
    """The sorts by a score the sort menu offers (column headers sort the rest)."""
    return [
        ("-clv", gettext_lazy("CLV, highest first")),
        ("clv", gettext_lazy("CLV, lowest first")),
        ("-leave", gettext_lazy("Most likely to leave first")),
        ("leave", gettext_lazy("Least likely to leave first")),
        ("next_purchase", gettext_lazy("Next purchase, soonest first")),
        ("-next_purchase", gettext_lazy("Next purchase, latest first")),
        ("-revenue", gettext_lazy("Revenue, highest first")),
        ("revenue", gettext_lazy("Revenue, lowest first")),
    ]


# A row of the client list (web/clients/_rows.html shows them in its table). It is
# filled in Python, not by the template engine: the page has fifty rows, and rendering
# them through template tags was the largest part of the page's time.
ROW_HTML = """
      <tr>
        <td><input type="checkbox" name="ids" value="{pk}" form="bulk-form"
                   aria-label="{select}"></td>
        <td class="cell-primary">
          <a href="{url}" data-row-link>{name}</a>
          {email}{tags}
        </td>
        <td>{tier}</td>
        <td class="cell-nowrap col-wide">{phone}</td>
        <td class="col-wide">{city}</td>
        <td>{owner}{team}</td>
        <td class="cell-nowrap">{last_contact}</td>
        <td class="cell-nowrap col-wide">{updated}</td>{scores}
      </tr>"""


def _prepare_rows(
    clients: list[Client],
    tiers: list[Tier],
    *,
    scores: dict[int, RowScores] | None = None,
    columns: list[str] | None = None,
) -> None:
    """Set `row_html` on each client (rows come from client_rows; `tiers` is every
    tier): the row's markup, with the tier's label, the owner's name and the times
    (web/_time.html's markup) worked out once per page, not once per row. `columns`:
    the analytics columns shown (SCORE_COLUMNS' codes), from `scores` by client id."""
    times = Times()
    scores = scores or {}
    columns = columns or []
    # One reverse() for the page: the card's URL with a placeholder for the id.
    show_url = reverse("clients:show", args=[987654321]).replace("987654321", "%d")
    tier_badges = {
        t.pk: format_html(
            '<span class="badge badge-sm{}">{}</span>',
            " badge-accent" if t.code == "vip" else "",
            t.display_name,
        )
        for t in tiers
    }
    never = format_html('<span class="muted">{}</span>', _("never"))
    owners: dict[int, str] = {}
    for client in clients:
        row: Any = client
        if client.owner_id not in owners:
            # What str(owner) says: the full name, or else the username.
            full_name = f"{row.owner_first_name} {row.owner_last_name}".strip()
            owners[client.owner_id] = full_name or row.owner_username
        row.row_html = format_html(
            ROW_HTML,
            pk=str(client.pk),
            select=_("Select %(name)s") % {"name": client.name},
            url=show_url % client.pk,
            name=client.name,
            email=format_html('<span class="cell-sub">{}</span>', client.email)
            if client.email
            else "",
            tags=format_html_join(
                "",
                '\n          <span class="badge badge-sm">{}</span> ',
                ((t,) for t in row.tag_names),
            ),
            tier=tier_badges.get(client.tier_id or 0, ""),
            phone=client.phone,
            city=client.city,
            owner=owners[client.owner_id],
            team=format_html('<span class="cell-sub">{}</span>', row.team_name)
            if row.team_name
            else "",
            last_contact=times.html(client.last_contact_at) if client.last_contact_at else never,
            updated=times.html(client.updated_at),
            scores=_score_cells(scores.get(client.pk), columns) if columns else "",
        )


def _score_cells(score: RowScores | None, columns: list[str]) -> str:
    """The analytics cells of a row; a dash where the client has no number."""
    none = format_html('<span class="muted" title="{}">–</span>', _("No score"))
    cells = []
    for column in columns:
        if score is None:
            value = none
        elif column == "segment":
            value = format_html("{}", score.segment_label)
        elif column == "abc_xyz":
            value = format_html("{}", score.abc_xyz)
        elif column == "clv":
            value = (
                format_html("{}", money(score.clv, score.currency))
                if score.clv is not None
                else format_html('<span class="muted">{}</span>', _("not enough data"))
            )
        elif column == "leave":
            p = score.leave_probability
            value = (
                format_html(
                    '<span class="analytics-{}">{}%</span>',
                    "risk" if p >= 0.5 else "warn" if p >= 0.25 else "good",
                    round(p * 100),
                )
                if p is not None
                else format_html('<span class="muted">{}</span>', _("not enough data"))
            )
        elif column == "next_purchase":
            value = (
                format_html("{}", date_format(score.next_purchase_on, "SHORT_DATE_FORMAT"))
                if score.next_purchase_on
                else none
            )
        else:
            value = format_html("{}", score.stage_label)
        numeric = column in ("clv", "leave", "next_purchase")
        cells.append(
            format_html(
                '\n        <td class="{}" data-col="{}">{}</td>',
                "cell-nowrap cell-num" if numeric else "cell-nowrap",
                column,
                value,
            )
        )
    return format_html_join("", "{}", ((c,) for c in cells))


@login_required
def show_client(request: AuthedRequest, client_id: int) -> HttpResponse:
    """The client card. The client and its blocks are one load (client_card: the
    client row and a prefetch per block); NotFound whether missing or not the viewer's."""
    card = client_card(viewer=request.user, client_id=client_id)
    client = card.client
    # The client's own history and that of every client merged into it.
    history = client_history(viewer=request.user, client=client)[:30]
    key_account, can_make_key_account = key_account_for_card(
        viewer=request.user, client_id=client.pk
    )
    return render(
        request,
        "web/clients/detail.html",
        {
            "client": client,
            "can_edit": can_edit_client(request.user, client),
            "history": history,
            **_card_timeline_context(request.user, client),
            **card_context(request.user, client, card=card),
            "sales": client_sales(request.user, client),
            "analytics_scores": client_scores(
                viewer=request.user, client=client, with_insight=True
            ),
            "key_account": key_account,
            "can_make_key_account": can_make_key_account,
        },
    )


def _card_timeline_context(viewer: Any, client: Client) -> dict[str, Any]:
    """The timeline section as the card shows it (timeline_context's keys) but
    without the "plan the next step" form, which loads when its disclosure opens
    (card:form "plan"): its assignee list alone was three queries per card."""
    can_edit = can_edit_client(viewer, client)
    touchpoints = list(
        touchpoint_list(viewer=viewer, client=client, with_participants=False)[:TIMELINE_SIZE]
    )
    now = timezone.now()
    return {
        "timeline_loaded": True,
        "timeline_client": client,
        "touchpoints": touchpoints,
        "touchpoints_more": len(touchpoints) == TIMELINE_SIZE,
        "open_tasks": list(task_list(viewer=viewer, client=client, status="open")),
        "contact_status": client_contact_status(client, now=now),
        "timeline_can_edit": can_edit,
        "touchpoint_form": remember_each_field_html(
            TouchpointForm(
                client=client,
                initial={"kind": Touchpoint.Kind.CALL, "direction": Touchpoint.Direction.OUTBOUND},
                auto_id="tp_%s",
            )
        )
        if can_edit
        else None,
        "task_form": None,
        "task_form_lazy": can_edit,
        "just_logged": None,
        "now": now,
    }


@login_required
def create_client(request: AuthedRequest) -> HttpResponse:
    form = ClientForm(request.POST or None, initial={"kind": Client.Kind.ORGANISATION})
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        if not data.get("currency"):
            data.pop("currency", None)  # keep the client's (or the default) currency
        try:
            client = client_create(actor=request.user, **data)
        except DomainError as exc:
            form_errors_from(form, exc)
        else:
            messages.success(
                request, _("Client “%(name)s” has been created.") % {"name": client.name}
            )
            return redirect("clients:show", client_id=client.pk)
    return render(
        request,
        "web/clients/form.html",
        {"form": form, "client": None},
        status=422 if form.errors else 200,
    )


@login_required
def edit_client(request: AuthedRequest, client_id: int) -> HttpResponse:
    client = client_get(viewer=request.user, client_id=client_id)
    initial = {f: getattr(client, f) for f in ("kind", "name", "email", "phone", "city", "notes")}
    initial.update(
        {
            f: "" if getattr(client, f) is None else getattr(client, f)
            for f in ClientForm.BLOCK_FIELDS
        }
    )
    form = ClientForm(request.POST or None, initial={**initial, "version": client.version})
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        if not data.get("currency"):
            data.pop("currency", None)  # keep the client's (or the default) currency
        try:
            client_update(
                actor=request.user,
                client=client,
                expected_version=form.cleaned_data.get("version"),
                **data,
            )
        except DomainError as exc:
            if exc.http_status in (403, 404):
                raise
            form_errors_from(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("clients:show", client_id=client.pk)
    return render(
        request,
        "web/clients/form.html",
        {"form": form, "client": client},
        status=422 if form.errors else 200,
    )


@login_required
@require_POST
def delete_client(request: AuthedRequest, client_id: int) -> HttpResponse:
    client = client_get(viewer=request.user, client_id=client_id)
    client_delete(actor=request.user, client=client)
    messages.success(
        request, _("Client “%(name)s” has been moved to the trash.") % {"name": client.name}
    )
    return redirect("clients:list")


@login_required
@require_POST
def export_clients(request: AuthedRequest) -> HttpResponse:
    job = client_export_start(actor=request.user, query=request.POST.get("q", ""))
    return redirect("jobs:show", job_id=job.pk)
