"""Sales pages: the kanban board of a pipeline (drag and drop, keyboard moves), the
deal list, the new-deal form, the deal card and the order page.

The board reads through `deals_board` (at most four queries whatever the number of
deals) plus the pipeline switcher; a column's next page is an htmx GET with the keyset
cursor. A move is one POST to `deal_move`: the board's script asks for JSON and
updates the two columns' counters from the answer; without JavaScript the move form of
the deal card posts the same view and is redirected back."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import zip_longest
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from lavka.clients.models import Tier
from lavka.clients.selectors import client_get, clients_visible_to
from lavka.core.errors import DomainError, NotFound, ValidationFailed
from lavka.identity.models import Team
from lavka.sales.models import Deal, Order, Product, Stage
from lavka.sales.permissions import can_create_sales_record, can_edit_sales_record
from lavka.sales.quotes import deal_quote, quote_pdf, quote_title
from lavka.sales.selectors.catalogue import price_for
from lavka.sales.selectors.deals import (
    BOARD_PAGE,
    Cursor,
    column_totals,
    deal_get,
    deal_lines,
    deal_list,
    deal_person_choices,
    deal_stage_history,
    deal_stage_times,
    deals_board,
    deals_column,
)
from lavka.sales.selectors.orders import order_get, order_lines, order_list, orders_visible_to
from lavka.sales.selectors.pipelines import (
    pipeline_get,
    pipelines_visible_to,
    stage_get,
    stage_list,
)
from lavka.sales.services import (
    deal_create,
    deal_lines_set,
    deal_move,
    deal_update,
    order_create,
    order_update_status,
)
from lavka.sales.services.orders import TRANSITIONS
from lavka.search.selectors import client_ids_matching
from lavka.web.errors import form_errors_from
from lavka.web.requests import AuthedRequest
from lavka.web.templatetags.lavka import money

LIST_PAGE = 50
LIST_SORTS = {
    "title": ("title", "id"),
    "amount": ("amount", "id"),
    "close": ("expected_close_on", "id"),
    "stage": ("stage__order", "id"),
    "created": ("created_at", "id"),
}


def _wants_json(request: AuthedRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _cursor(value: str) -> Cursor | None:
    """The keyset cursor of a column page as it travels in a URL: "position:id"."""
    position, _sep, pk = (value or "").partition(":")
    first, second = _int(position), _int(pk)
    return None if first is None or second is None else (first, second)


def _totals_label(totals: dict[str, Decimal]) -> str:
    return " · ".join(money(amount, currency) for currency, amount in sorted(totals.items()))


def _count_label(count: int) -> str:
    return ngettext("%(count)s deal", "%(count)s deals", count) % {"count": count}


def _prepare_cards(deals: list[Deal], *, movable: bool = True) -> None:
    """Each card's markup, built once in Python: a board shows up to a hundred and
    fifty cards, and a template loop with its filters and tags was most of the page's
    time. The same markup as a template would give, escaped by format_html."""
    show_url = reverse("sales:deal", args=[987654321]).replace("987654321", "%d")
    owners: dict[int, str] = {}
    dates: dict[dt.date, str] = {}
    close_title = _("Expected close date")
    owner_title = _("Owner")
    move_text = _("Move…")
    for deal in deals:
        card: Any = deal
        card.url = show_url % deal.pk
        card.amount_label = money(deal.amount, deal.currency)
        if deal.owner_id not in owners:
            owners[deal.owner_id] = str(deal.owner)
        card.owner_label = owners[deal.owner_id]
        close = ""
        if deal.expected_close_on is not None:
            if deal.expected_close_on not in dates:
                dates[deal.expected_close_on] = date_format(
                    deal.expected_close_on, "SHORT_DATE_FORMAT"
                )
            close = format_html(
                '<span class="deal-card-date" title="{}">{}</span>',
                close_title,
                dates[deal.expected_close_on],
            )
        if not movable:  # an analyst reads the board and moves nothing
            card.html = format_html(
                '<li class="deal-card deal-card-static" data-testid="deal-{id}">'
                '<a href="{url}" class="deal-card-title">{title}</a>'
                '<span class="deal-card-client">{client}</span>'
                '<span class="deal-card-meta"><span class="deal-card-amount">{amount}</span>'
                "{close}</span>"
                '<span class="deal-card-foot"><span class="deal-card-owner">{owner}</span>'
                "</span></li>",
                id=str(deal.pk),
                url=card.url,
                title=deal.title,
                client=deal.client.name,
                amount=card.amount_label,
                close=close,
                owner=card.owner_label,
            )
            continue
        card.html = format_html(
            '<li class="deal-card" draggable="true" tabindex="0" data-card data-deal="{id}"'
            ' data-title="{title}" data-testid="deal-{id}" aria-describedby="board-help">'
            '<a href="{url}" class="deal-card-title" draggable="false">{title}</a>'
            '<span class="deal-card-client">{client}</span>'
            '<span class="deal-card-meta"><span class="deal-card-amount">{amount}</span>'
            "{close}</span>"
            '<span class="deal-card-foot"><span class="deal-card-owner" title="{owner_title}">'
            "{owner}</span>"
            '<button type="button" class="deal-card-move btn btn-secondary btn-sm"'
            ' data-move-open aria-label="{move_label}">{move_text}</button></span></li>',
            id=str(deal.pk),
            title=deal.title,
            url=card.url,
            client=deal.client.name,
            amount=card.amount_label,
            close=close,
            owner_title=owner_title,
            owner=card.owner_label,
            move_label=_("Move “%(title)s” to…") % {"title": deal.title},
            move_text=move_text,
        )


# --- the board -------------------------------------------------------------------------


@login_required
@require_GET
def board(request: AuthedRequest) -> HttpResponse:
    """The kanban board of a pipeline (?pipeline=ID, default the default one); ?mine=1
    shows only the viewer's own deals."""
    pipelines = list(pipelines_visible_to(request.user))
    wanted = _int(request.GET.get("pipeline"))
    pipeline = next((p for p in pipelines if p.pk == wanted), None)
    if pipeline is None:
        if wanted is not None or not pipelines:
            raise NotFound(resource="pipeline", id=wanted)
        pipeline = next((p for p in pipelines if p.is_default), pipelines[0])
    mine = request.GET.get("mine") == "1"
    result = deals_board(
        viewer=request.user, pipeline=pipeline, owner_id=request.user.pk if mine else None
    )
    movable = can_create_sales_record(request.user)
    for column in result.columns:
        _prepare_cards(column.deals, movable=movable)
        col: Any = column
        col.count_label = _count_label(column.count)
        col.totals_label = _totals_label(column.totals)
        col.more_url = _more_url(column.stage.pk, column.next_after, mine)
    request.nav_section = "sales"  # type: ignore[attr-defined]
    return render(
        request,
        "web/sales/board.html",
        {
            "board": result,
            "pipeline": pipeline,
            "pipelines": pipelines,
            "mine": mine,
            "stages": [c.stage for c in result.columns],
            "can_create": movable,
        },
    )


def _more_url(stage_id: int, after: Cursor | None, mine: bool) -> str:
    if after is None:
        return ""
    url = reverse("sales:column", args=[stage_id]) + f"?after={after[0]}:{after[1]}"
    return url + ("&mine=1" if mine else "")


@login_required
@require_GET
def column(request: AuthedRequest, stage_id: int) -> HttpResponse:
    """The next page of one column (htmx: the cards and the next "show more")."""
    stage = stage_get(viewer=request.user, stage_id=stage_id)
    mine = request.GET.get("mine") == "1"
    deals, after = deals_column(
        viewer=request.user,
        stage=stage,
        after=_cursor(request.GET.get("after", "")),
        limit=BOARD_PAGE,
        owner_id=request.user.pk if mine else None,
    )
    _prepare_cards(deals, movable=can_create_sales_record(request.user))
    return render(
        request,
        "web/sales/_cards.html",
        {"deals": deals, "more_url": _more_url(stage.pk, after, mine), "stage": stage},
    )


def _column_summaries(request: AuthedRequest, stage_ids: list[int]) -> dict[str, Any]:
    """Counters of the columns a move touched, for the board to update."""
    mine = request.POST.get("mine") == "1"
    totals = column_totals(
        viewer=request.user, stage_ids=stage_ids, owner_id=request.user.pk if mine else None
    )
    return {
        str(pk): {
            "count": totals[pk][0],
            "count_label": _count_label(totals[pk][0]),
            "totals_label": _totals_label(totals[pk][1]),
        }
        for pk in stage_ids
    }


def _back(request: AuthedRequest, deal: Deal) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("sales:deal", deal_id=deal.pk)


@login_required
@require_POST
def move(request: AuthedRequest, deal_id: int) -> HttpResponse:
    """Move a deal: POST stage, after (the card above it; empty for the top), and
    lost_reason for a lost stage. JSON for the board's script, else a redirect."""
    deal = deal_get(viewer=request.user, deal_id=deal_id)
    from_stage_id = deal.stage_id
    stage = stage_get(viewer=request.user, stage_id=_int(request.POST.get("stage")) or 0)
    after_id = _int(request.POST.get("after"))
    try:
        moved = deal_move(
            actor=request.user,
            deal=deal,
            stage=stage,
            after_id=after_id,
            lost_reason=request.POST.get("lost_reason", ""),
        )
    except DomainError as exc:
        if exc.http_status in (403, 404) or not _wants_json(request):
            if exc.http_status in (403, 404):
                raise
            for field_messages in (exc.fields or {"": [exc.detail]}).values():
                for message in field_messages:
                    messages.error(request, message)
            return _back(request, deal)
        return JsonResponse(
            {"code": exc.code, "detail": str(exc.detail), "fields": exc.fields or {}}, status=422
        )
    order = None
    if stage.kind == Stage.Kind.WON:
        order = (
            orders_visible_to(request.user)
            .filter(source_deal_id=moved.pk)
            .exclude(status=Order.Status.CANCELLED)
            .order_by("-id")
            .first()
        )
    if stage.pk == from_stage_id:
        message = _("“%(title)s” moved within “%(stage)s”.") % {
            "title": moved.title,
            "stage": stage.name,
        }
    else:
        message = _("“%(title)s” moved to “%(stage)s”.") % {
            "title": moved.title,
            "stage": stage.name,
        }
    order_url = reverse("sales:order", args=[order.pk]) if order else ""
    if order is not None:
        message += " " + _("Order %(number)s has been created.") % {
            "number": order.number or order.pk
        }
    if not _wants_json(request):
        messages.success(request, message)
        return _back(request, moved)
    return JsonResponse(
        {
            "ok": True,
            "message": message,
            "order_url": order_url,
            "order_label": _("Open the order") if order else "",
            "stage": stage.pk,
            "kind": stage.kind,
            # A move within a column changes no counter: no need to count again.
            "columns": _column_summaries(request, sorted({from_stage_id, stage.pk}))
            if stage.pk != from_stage_id
            else {},
        }
    )


# --- the deal list -----------------------------------------------------------------------


@login_required
@require_GET
def deals(request: AuthedRequest) -> HttpResponse:
    """All deals the viewer may see, as a table: filters by pipeline, stage, owner,
    status and client (?client=ID, the client card's link), sortable columns. The
    analytics drill-down adds `team`, `tier`, `created_from`/`created_to`
    (YYYY-MM-DD), `reached` (a stage id: deals that have entered it) and `closes`
    (YYYY-MM, expected close month), shown as removable chips."""
    params = request.GET
    pipeline_id = _int(params.get("pipeline"))
    stage_id = _int(params.get("stage"))
    owner_id = _int(params.get("owner"))
    client_id = _int(params.get("client"))
    status = params.get("status", "all")
    sort = params.get("sort", "-created")
    query = params.get("q", "").strip()
    client = client_get(viewer=request.user, client_id=client_id) if client_id else None
    drill = _deal_drill(params)
    rows = deal_list(
        viewer=request.user,
        pipeline_id=pipeline_id,
        stage_id=stage_id,
        owner_id=owner_id,
        client_id=client_id,
        status=status,
        query=query,
        **drill.filters,
    ).defer("client__search_text", "client__notes", "client__custom")
    key = sort.lstrip("-")
    if key in LIST_SORTS:
        fields = LIST_SORTS[key]
        rows = rows.order_by(*[("-" + f) if sort.startswith("-") else f for f in fields])
    number = max(1, _int(params.get("page")) or 1)
    page = list(rows[(number - 1) * LIST_PAGE : number * LIST_PAGE + 1])
    has_next = len(page) > LIST_PAGE
    page = page[:LIST_PAGE]
    _prepare_cards(page)
    pipelines = list(pipelines_visible_to(request.user))
    stages = [
        s
        for s in Stage.objects.filter(is_archived=False)
        .select_related("pipeline")
        .order_by("pipeline__order", "pipeline_id", "order", "id")
        if pipelines
    ]
    current = {
        k: v
        for k, v in (
            ("pipeline", params.get("pipeline", "")),
            ("stage", params.get("stage", "")),
            ("owner", params.get("owner", "")),
            ("client", params.get("client", "")),
            ("status", status if status != "all" else ""),
            ("q", query),
        )
        if v
    }
    current.update(drill.params)
    request.nav_section = "sales"  # type: ignore[attr-defined]
    context = {
        "deals": page,
        "number": number,
        "has_next": has_next,
        "sort": sort,
        "current": current,
        "pipelines": pipelines,
        "stages": stages,
        "owners": list(
            get_user_model()
            .objects.filter(is_active=True)
            .only("username", "first_name", "last_name")
            .order_by("last_name", "first_name")[:300]
        ),
        "statuses": [
            ("all", _("All deals")),
            ("open", _("Open")),
            ("won", _("Won")),
            ("lost", _("Lost")),
        ],
        "status": status,
        "query": query,
        "client": client,
        "filtered": bool(current),
        "can_create": can_create_sales_record(request.user),
        "drill_params": drill.params,
        "chips": drill.chips,
    }
    template = "web/sales/_deal_rows.html" if request.htmx else "web/sales/deals.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@dataclass
class _DealDrill:
    """The deal list's drill-down parameters: `filters` for `deal_list`, `params` as
    they parsed (kept by the filter form), `chips` (label, URL without the parameter)."""

    filters: dict[str, Any] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    chips: list[dict[str, str]] = field(default_factory=list)


def _deal_drill(params: Any) -> _DealDrill:
    """The drill-down parameters of the deal list that parse; a value that does not
    parse is ignored, as the list's other filters are."""
    drill = _DealDrill()

    def date(name: str) -> dt.date | None:
        try:
            return dt.date.fromisoformat(str(params.get(name, "")))
        except ValueError:
            return None

    def chip(names: tuple[str, ...], label: str) -> None:
        rest = params.copy()
        for name in names:
            rest.pop(name, None)
        rest.pop("page", None)
        drill.chips.append({"label": label, "url": f"?{rest.urlencode()}"})

    team_id = _int(params.get("team"))
    team = Team.objects.filter(pk=team_id).only("name").first() if team_id else None
    if team is not None:
        drill.filters["team_id"] = team.pk
        drill.params["team"] = str(team.pk)
        chip(("team",), _("Team: %(name)s") % {"name": team.name})
    tier_id = _int(params.get("tier"))
    tier = Tier.objects.filter(pk=tier_id).first() if tier_id else None
    if tier is not None:
        drill.filters["tier_id"] = tier.pk
        drill.params["tier"] = str(tier.pk)
        chip(("tier",), _("Client tier: %(name)s") % {"name": tier.display_name})
    first, last = date("created_from"), date("created_to")
    if first is not None or last is not None:
        drill.filters.update(created_from=first, created_to=last)
        if first is not None:
            drill.params["created_from"] = first.isoformat()
        if last is not None:
            drill.params["created_to"] = last.isoformat()
        shown = {
            "first": date_format(first, "SHORT_DATE_FORMAT") if first else "…",
            "last": date_format(last, "SHORT_DATE_FORMAT") if last else "…",
        }
        chip(("created_from", "created_to"), _("Created %(first)s – %(last)s") % shown)
    reached_id = _int(params.get("reached"))
    reached = Stage.objects.filter(pk=reached_id).only("name").first() if reached_id else None
    if reached is not None:
        drill.filters["reached_stage_id"] = reached.pk
        drill.params["reached"] = str(reached.pk)
        chip(("reached",), _("Reached the stage: %(name)s") % {"name": reached.name})
    closes = _month_of(str(params.get("closes", "")))
    if closes is not None:
        drill.filters["closes_in"] = closes
        drill.params["closes"] = closes.strftime("%Y-%m")
        chip(
            ("closes",),
            _("Expected to close in %(month)s")
            % {"month": date_format(closes, "YEAR_MONTH_FORMAT")},
        )
    return drill


def _month_of(text: str) -> dt.date | None:
    """ "2026-06" -> 2026-06-01; None for anything else."""
    year, _sep, month = text.partition("-")
    if len(year) != 4 or len(month) != 2 or not (year + month).isdigit():
        return None
    try:
        return dt.date(int(year), int(month), 1)
    except ValueError:
        return None


# --- a new deal --------------------------------------------------------------------------


class DealForm(forms.Form):
    client = forms.TypedChoiceField(label=gettext_lazy("Client"), coerce=int)
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    amount = forms.DecimalField(
        label=gettext_lazy("Amount"), required=False, min_value=0, decimal_places=2
    )
    currency = forms.CharField(
        label=gettext_lazy("Currency"),
        max_length=3,
        required=False,
        help_text=gettext_lazy("Three letters, e.g. RUB; empty: the client's currency."),
    )
    expected_close_on = forms.DateField(
        label=gettext_lazy("Expected close date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    pipeline = forms.TypedChoiceField(label=gettext_lazy("Pipeline"), coerce=int)


def _client_choices(request: AuthedRequest, query: str, selected: int | None) -> list[Any]:
    """(id, name) of up to 50 visible clients: those matching `query` (the search
    index: any case, any alphabet, typos), best first, else the first by name."""
    clients = clients_visible_to(request.user).select_related(None)
    ids = client_ids_matching(viewer=request.user, query=query, limit=50) if query else None
    if ids:
        rank = {pk: i for i, pk in enumerate(ids)}
        found = sorted(
            clients.filter(pk__in=ids).values_list("pk", "name"), key=lambda row: rank[row[0]]
        )
    elif query:
        found = list(
            clients.filter(name__icontains=query)
            .order_by("name", "id")
            .values_list("pk", "name")[:50]
        )
    else:
        found = list(clients.order_by("name", "id").values_list("pk", "name")[:50])
    if selected and all(pk != selected for pk, _name in found):
        found[:0] = list(clients.filter(pk=selected).values_list("pk", "name"))
    return found


@login_required
def deal_new(request: AuthedRequest) -> HttpResponse:
    """The quick form of a new deal. The client select is filled by a search (htmx:
    ?client_q=... answers with the options)."""
    if request.htmx and "client_q" in request.GET:  # type: ignore[attr-defined]
        return render(
            request,
            "web/sales/_client_options.html",
            {"choices": _client_choices(request, request.GET["client_q"].strip(), None)},
        )
    if not can_create_sales_record(request.user):
        raise NotFound(resource="deal")
    pipelines = list(pipelines_visible_to(request.user))
    data = request.POST if request.method == "POST" else None
    chosen = _int((data or request.GET).get("client"))
    form = DealForm(
        data,
        initial={
            "client": chosen,
            "pipeline": _int(request.GET.get("pipeline"))
            or next((p.pk for p in pipelines if p.is_default), None),
        },
    )
    form.fields["client"].choices = [  # type: ignore[attr-defined]
        ("", _("Choose a client")),
        *_client_choices(request, "", chosen),
    ]
    form.fields["pipeline"].choices = [(p.pk, p.name) for p in pipelines]  # type: ignore[attr-defined]
    if request.method == "POST" and form.is_valid():
        data_clean = form.cleaned_data
        try:
            client = client_get(viewer=request.user, client_id=data_clean["client"])
            pipeline = pipeline_get(viewer=request.user, pipeline_id=data_clean["pipeline"])
            deal = deal_create(
                actor=request.user,
                client=client,
                title=data_clean["title"],
                pipeline=pipeline,
                amount=data_clean["amount"],
                currency=(data_clean["currency"] or "").upper(),
                expected_close_on=data_clean["expected_close_on"],
            )
        except DomainError as exc:
            if exc.http_status == 403:
                raise
            form_errors_from(form, exc)
        else:
            messages.success(
                request, _("Deal “%(title)s” has been created.") % {"title": deal.title}
            )
            return redirect("sales:deal", deal_id=deal.pk)
    request.nav_section = "sales"  # type: ignore[attr-defined]
    return render(
        request, "web/sales/deal_form.html", {"form": form}, status=422 if form.errors else 200
    )


# --- the deal card ---------------------------------------------------------------------


INLINE_FIELDS = {
    "title": gettext_lazy("Title"),
    "amount": gettext_lazy("Amount"),
    "currency": gettext_lazy("Currency"),
    "expected_close_on": gettext_lazy("Expected close date"),
    "probability": gettext_lazy("Probability, %"),
    "source": gettext_lazy("Source"),
    "campaign": gettext_lazy("Campaign"),
    "lost_reason": gettext_lazy("Lost reason"),
}


def _duration_label(duration: dt.timedelta) -> str:
    if not duration:  # a closed deal's won or lost stage: the clock has stopped
        return "—"
    days = duration.days
    if days >= 1:
        return ngettext("%(count)s day", "%(count)s days", days) % {"count": days}
    hours = duration.seconds // 3600
    if hours >= 1:
        return ngettext("%(count)s hour", "%(count)s hours", hours) % {"count": hours}
    minutes = duration.seconds // 60
    if minutes < 1:
        return _("under a minute")
    return ngettext("%(count)s minute", "%(count)s minutes", minutes) % {"count": minutes}


def _deal_context(request: AuthedRequest, deal: Deal, **extra: Any) -> dict[str, Any]:
    lines = deal_lines(viewer=request.user, deal=deal)
    history = deal_stage_history(viewer=request.user, deal=deal)
    times = deal_stage_times(viewer=request.user, deal=deal)
    orders = list(
        orders_visible_to(request.user).filter(source_deal_id=deal.pk).order_by("-id")[:10]
    )
    can_edit = can_edit_sales_record(request.user, deal)
    fields = []
    for name, label in INLINE_FIELDS.items():
        if name == "lost_reason" and deal.stage.kind != Stage.Kind.LOST:
            continue
        value = getattr(deal, name)
        if name == "amount":
            shown = money(value, deal.currency)
        elif name == "expected_close_on":
            shown = value
        else:
            shown = value if value not in (None, "") else ""
        fields.append(
            {
                "name": name,
                "label": label,
                "value": value.isoformat() if isinstance(value, dt.date) else value,
                "shown": shown,
                "input": "date"
                if name == "expected_close_on"
                else ("number" if name in ("amount", "probability") else "text"),
                "locked": name == "amount" and bool(lines),
            }
        )
    competitors = sorted(deal.competitors.values_list("name", flat=True), key=str.casefold)
    people = deal_person_choices(viewer=request.user, deal=deal) if can_edit else []
    return {
        "deal": deal,
        "competitors": competitors,
        "people": people,
        "fields": fields,
        "lines": lines,
        "lines_total": sum((line.amount for line in lines), Decimal(0)),
        "stage_times": [
            {**t.__dict__, "stage": t.stage_name, "duration": _duration_label(t.duration)}
            for t in times
        ],
        "history": list(reversed(history))[:30],
        "stages": stage_list(viewer=request.user, pipeline=deal.pipeline),
        "orders": orders,
        "can_edit": can_edit,
        "lines_editable": can_edit and deal.stage.kind != Stage.Kind.WON,
        "products": list(Product.objects.filter(is_active=True).order_by("name")[:500])
        if can_edit
        else [],
        "editing": None,
        "errors": {},
        **extra,
    }


@login_required
def deal_show(request: AuthedRequest, deal_id: int) -> HttpResponse:
    deal = deal_get(viewer=request.user, deal_id=deal_id)
    request.nav_section = "sales"  # type: ignore[attr-defined]
    return render(request, "web/sales/deal.html", _deal_context(request, deal))


@login_required
def deal_field(request: AuthedRequest, deal_id: int, name: str) -> HttpResponse:
    """Inline edit of one field: GET the edit form, POST the value. htmx swaps the
    field block; without htmx (no script yet, or none at all) the whole card is shown
    with the field open, and its error next to it, and a saved value redirects to the
    card."""
    if name not in INLINE_FIELDS:
        raise NotFound(resource="field")
    deal = deal_get(viewer=request.user, deal_id=deal_id)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        value: Any = request.POST.get("value", "").strip()
        if name == "currency":
            value = value.upper()
        if name in ("expected_close_on", "probability") and value == "":
            value = None
        try:
            deal = deal_update(
                actor=request.user,
                deal=deal,
                expected_version=_int(request.POST.get("version")),
                **{name: value},
            )
        except DomainError as exc:
            if exc.http_status in (403, 404):
                raise
            errors = {name: list((exc.fields or {}).get(name, [str(exc.detail)]))}
        if not errors and not request.htmx:  # type: ignore[attr-defined]
            return redirect("sales:deal", deal_id=deal.pk)
        deal = deal_get(viewer=request.user, deal_id=deal.pk)
    context = _deal_context(
        request,
        deal,
        editing=name if (request.method == "GET" or errors) else None,
        errors=errors,
        posted=request.POST.get("value", ""),
    )
    status = 422 if errors else 200
    if not request.htmx:  # type: ignore[attr-defined]
        request.nav_section = "sales"  # type: ignore[attr-defined]
        return render(request, "web/sales/deal.html", context, status=status)
    return render(request, "web/sales/_deal_fields.html", context, status=status)


@login_required
@require_POST
def deal_lines_save(request: AuthedRequest, deal_id: int) -> HttpResponse:
    """Replace the deal's products with the rows of the lines form (a row with no
    product is dropped; an empty price takes the catalogue's)."""
    deal = deal_get(viewer=request.user, deal_id=deal_id)
    products = {
        p.pk: p
        for p in Product.objects.filter(
            pk__in=[_int(v) for v in request.POST.getlist("product") if _int(v)]
        )
    }
    lines = []
    for product, quantity, price, discount in zip(
        request.POST.getlist("product"),
        request.POST.getlist("quantity"),
        request.POST.getlist("unit_price"),
        request.POST.getlist("discount_percent"),
        strict=False,
    ):
        if not _int(product):
            continue
        line: dict[str, Any] = {"product": products.get(_int(product) or 0)}
        line["quantity"] = quantity.strip() or "1"
        if price.strip():
            line["unit_price"] = price.strip()
        if discount.strip():
            line["discount_percent"] = discount.strip()
        lines.append(line)
    try:
        deal_lines_set(actor=request.user, deal=deal, lines=lines)
    except ValidationFailed as exc:
        for field_messages in (exc.fields or {"": [exc.detail]}).values():
            for message in field_messages:
                messages.error(request, message)
    else:
        messages.success(request, _("Products saved."))
    return redirect("sales:deal", deal_id=deal.pk)


@login_required
@require_POST
def deal_competitors(request: AuthedRequest, deal_id: int) -> HttpResponse:
    """Add a competitor by name (POST add=NAME; a new name joins the list) or remove
    one (POST remove=NAME)."""
    deal = deal_get(viewer=request.user, deal_id=deal_id)
    names = list(deal.competitors.values_list("name", flat=True))
    added = request.POST.get("add", "").strip()
    removed = request.POST.get("remove", "").strip()
    if added:
        names.append(added)
    elif removed:
        names = [n for n in names if n.casefold() != removed.casefold()]
    elif "add" in request.POST:
        messages.error(request, _("Type the competitor's name."))
        return redirect(reverse("sales:deal", args=[deal.pk]) + "#deal-competitors-title")
    try:
        deal_update(actor=request.user, deal=deal, competitors=names)
    except DomainError as exc:
        if exc.http_status in (403, 404):
            raise
        for field_messages in (exc.fields or {"": [exc.detail]}).values():
            for message in field_messages:
                messages.error(request, message)
    else:
        messages.success(
            request,
            _("Competitor “%(name)s” added.") % {"name": added}
            if added
            else _("Competitor “%(name)s” removed.") % {"name": removed},
        )
    return redirect(reverse("sales:deal", args=[deal.pk]) + "#deal-competitors-title")


@login_required
@require_POST
def deal_person(request: AuthedRequest, deal_id: int) -> HttpResponse:
    """Set the deal's contact person (POST person=ID of someone at the client, or
    empty for nobody)."""
    deal = deal_get(viewer=request.user, deal_id=deal_id)
    person_id = _int(request.POST.get("person"))
    person = None
    if person_id is not None:
        person = next(
            (p for p in deal_person_choices(viewer=request.user, deal=deal) if p.pk == person_id),
            None,
        )
        if person is None:
            messages.error(request, _("This person does not work at this client."))
            return redirect("sales:deal", deal_id=deal.pk)
    try:
        deal_update(
            actor=request.user,
            deal=deal,
            person=person,
            expected_version=_int(request.POST.get("version")),
        )
    except DomainError as exc:
        if exc.http_status in (403, 404):
            raise
        for field_messages in (exc.fields or {"": [exc.detail]}).values():
            for message in field_messages:
                messages.error(request, message)
    else:
        messages.success(request, _("Contact person saved."))
    return redirect("sales:deal", deal_id=deal.pk)


# --- the quote ---------------------------------------------------------------------------


@login_required
@require_GET
def quote_show(request: AuthedRequest, deal_id: int) -> HttpResponse:
    """The deal's quote as a printable page (the browser prints it; the PDF link
    downloads the same document)."""
    deal = deal_get(viewer=request.user, deal_id=deal_id)
    quote = deal_quote(viewer=request.user, deal=deal)
    request.nav_section = "sales"  # type: ignore[attr-defined]
    return render(
        request,
        "web/sales/quote.html",
        {"quote": quote, "deal": deal, "title": quote_title(quote)},
    )


@login_required
@require_GET
def quote_download(request: AuthedRequest, deal_id: int) -> HttpResponse:
    """The deal's quote as a PDF download."""
    deal = deal_get(viewer=request.user, deal_id=deal_id)
    quote = deal_quote(viewer=request.user, deal=deal)
    response = HttpResponse(quote_pdf(quote), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="quote-{deal.pk}.pdf"'
    return response


# --- orders ------------------------------------------------------------------------------


@login_required
@require_GET
def orders(request: AuthedRequest) -> HttpResponse:
    """Orders, newest first (?client=ID: one client's purchase history, the client
    card's link; ?status=...)."""
    client_id = _int(request.GET.get("client"))
    client = client_get(viewer=request.user, client_id=client_id) if client_id else None
    status = request.GET.get("status", "")
    if status not in Order.Status.values:
        status = ""
    number = max(1, _int(request.GET.get("page")) or 1)
    rows = list(
        order_list(viewer=request.user, client_id=client_id, status=status).defer(
            "client__search_text", "client__notes", "client__custom"
        )[(number - 1) * LIST_PAGE : number * LIST_PAGE + 1]
    )
    request.nav_section = "sales"  # type: ignore[attr-defined]
    return render(
        request,
        "web/sales/orders.html",
        {
            "orders": rows[:LIST_PAGE],
            "has_next": len(rows) > LIST_PAGE,
            "number": number,
            "client": client,
            "status": status,
            "statuses": Order.Status.choices,
            "can_create": can_create_sales_record(request.user),
        },
    )


@login_required
@require_GET
def order_show(request: AuthedRequest, order_id: int) -> HttpResponse:
    order = order_get(viewer=request.user, order_id=order_id)
    request.nav_section = "sales"  # type: ignore[attr-defined]
    can_edit = can_edit_sales_record(request.user, order)
    return render(
        request,
        "web/sales/order.html",
        {
            "order": order,
            "lines": order_lines(viewer=request.user, order=order),
            "can_edit": can_edit,
            "next_statuses": [
                (value, label)
                for value, label in Order.Status.choices
                if value in TRANSITIONS.get(order.status, set())
            ]
            if can_edit
            else [],
        },
    )


@login_required
@require_POST
def order_status(request: AuthedRequest, order_id: int) -> HttpResponse:
    """Change an order's status (POST status, version); a refused change comes back
    with the statuses it may take."""
    order = order_get(viewer=request.user, order_id=order_id)
    try:
        changed = order_update_status(
            actor=request.user,
            order=order,
            status=request.POST.get("status", ""),
            expected_version=_int(request.POST.get("version")),
        )
    except DomainError as exc:
        if exc.http_status in (403, 404):
            raise
        for field_messages in (exc.fields or {"": [exc.detail]}).values():
            for message in field_messages:
                messages.error(request, message)
    else:
        messages.success(
            request,
            _("The order is now “%(status)s”.") % {"status": changed.get_status_display()},
        )
    return redirect("sales:order", order_id=order.pk)


ORDER_FORM_LINES = 5


class OrderForm(forms.Form):
    client = forms.TypedChoiceField(label=gettext_lazy("Client"), coerce=int)
    ordered_on = forms.DateField(
        label=gettext_lazy("Date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    number = forms.CharField(label=gettext_lazy("Number"), max_length=50, required=False)
    currency = forms.CharField(
        label=gettext_lazy("Currency"),
        max_length=3,
        required=False,
        help_text=gettext_lazy("Three letters, e.g. RUB; empty: the client's currency."),
    )
    status = forms.ChoiceField(label=gettext_lazy("Status"), choices=Order.Status.choices)


def _order_form_lines(request: AuthedRequest) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """The posted line rows: (lines for order_create, the rows as typed, to show
    again). A row without a product is skipped."""
    post = request.POST
    rows = [
        {
            "product": product,
            "quantity": quantity.strip(),
            "unit_price": price.strip(),
            "discount_percent": discount.strip(),
        }
        for product, quantity, price, discount in zip_longest(
            post.getlist("product"),
            post.getlist("quantity"),
            post.getlist("unit_price"),
            post.getlist("discount_percent"),
            fillvalue="",
        )
    ]
    products = {
        p.pk: p
        for p in Product.objects.filter(
            pk__in=[_int(r["product"]) for r in rows if _int(r["product"])]
        )
    }
    lines = []
    for row in rows:
        product = products.get(_int(row["product"]) or 0)
        if product is None:
            continue
        line: dict[str, Any] = {"product": product, "quantity": row["quantity"] or "1"}
        line["unit_price"] = row["unit_price"] or None
        if row["discount_percent"]:
            line["discount_percent"] = row["discount_percent"]
        lines.append(line)
    return lines, rows


@login_required
def order_new(request: AuthedRequest) -> HttpResponse:
    """An order entered by hand: client (?client=ID preselects it), date, number,
    currency, status and up to ORDER_FORM_LINES lines (product, quantity, price,
    discount). An empty price takes the product's catalogue price for the client."""
    if not can_create_sales_record(request.user):
        raise NotFound(resource="order")
    data = request.POST if request.method == "POST" else None
    chosen = _int((data or request.GET).get("client"))
    form = OrderForm(
        data,
        initial={
            "client": chosen,
            "ordered_on": timezone.localdate(),
            "status": Order.Status.CONFIRMED,
        },
    )
    form.fields["client"].choices = [  # type: ignore[attr-defined]
        ("", _("Choose a client")),
        *_client_choices(request, "", chosen),
    ]
    rows: list[dict[str, str]] = []
    line_errors: list[str] = []
    if request.method == "POST":
        lines, rows = _order_form_lines(request)
        if form.is_valid():
            cleaned = form.cleaned_data
            try:
                client = client_get(viewer=request.user, client_id=cleaned["client"])
                order = order_create(
                    actor=request.user,
                    client=client,
                    ordered_on=cleaned["ordered_on"],
                    number=cleaned["number"],
                    currency=(cleaned["currency"] or "").upper(),
                    status=cleaned["status"],
                    lines=[_priced(line, client) for line in lines],
                )
            except DomainError as exc:
                if exc.http_status == 403:
                    raise
                for name, field_messages in (exc.fields or {"": [exc.detail]}).items():
                    if name in form.fields:
                        for message in field_messages:
                            form.add_error(name, message)
                    else:
                        line_errors += [_line_error(name, m) for m in field_messages]
            else:
                messages.success(
                    request,
                    _("Order %(number)s has been created.") % {"number": order.number or order.pk},
                )
                return redirect("sales:order", order_id=order.pk)
    rows += [{"product": "", "quantity": "", "unit_price": "", "discount_percent": ""}] * max(
        0, ORDER_FORM_LINES - len(rows)
    )
    request.nav_section = "sales"  # type: ignore[attr-defined]
    return render(
        request,
        "web/sales/order_form.html",
        {
            "form": form,
            "rows": rows,
            "line_errors": line_errors,
            "products": list(
                Product.objects.filter(is_active=True).only("code", "name").order_by("name")[:500]
            ),
        },
        status=422 if (form.errors or line_errors) else 200,
    )


def _priced(line: dict[str, Any], client: Any) -> dict[str, Any]:
    """A line without a price gets the client's catalogue price today (or stays
    without one, and order_create names the field)."""
    if line.get("unit_price") is None:
        price = price_for(client, line["product"], on=timezone.localdate())
        line = {**line}
        if price is not None:
            line["unit_price"] = price.amount
        else:
            line.pop("unit_price")
    return line


def _line_error(name: str, message: str) -> str:
    """ "lines.2.quantity" and its message as the user reads it: "Line 3: …"."""
    parts = name.split(".")
    if len(parts) >= 2 and parts[0] == "lines" and parts[1].isdigit():
        return _("Line %(number)s: %(message)s") % {"number": int(parts[1]) + 1, "message": message}
    return str(message)


app_name = "sales"
urlpatterns: list[Any] = [
    path("sales/", board, name="board"),
    path("sales/columns/<int:stage_id>/", column, name="column"),
    path("sales/deals/", deals, name="deals"),
    path("sales/deals/new/", deal_new, name="deal_new"),
    path("sales/deals/<int:deal_id>/", deal_show, name="deal"),
    path("sales/deals/<int:deal_id>/move/", move, name="move"),
    path("sales/deals/<int:deal_id>/fields/<str:name>/", deal_field, name="deal_field"),
    path("sales/deals/<int:deal_id>/lines/", deal_lines_save, name="deal_lines"),
    path("sales/orders/", orders, name="orders"),
    path("sales/deals/<int:deal_id>/competitors/", deal_competitors, name="deal_competitors"),
    path("sales/deals/<int:deal_id>/person/", deal_person, name="deal_person"),
    path("sales/deals/<int:deal_id>/quote/", quote_show, name="quote"),
    path("sales/deals/<int:deal_id>/quote.pdf", quote_download, name="quote_pdf"),
    path("sales/orders/new/", order_new, name="order_new"),
    path("sales/orders/<int:order_id>/", order_show, name="order"),
    path("sales/orders/<int:order_id>/status/", order_status, name="order_status"),
]
