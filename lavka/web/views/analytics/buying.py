"""Analytics pages: who buys what and when, the due-to-buy list (`analytics:due`).

The list is `lavka.analytics.buying.due_list` for the viewer: a rep sees their own
clients, a manager their team's and may pick one rep or team; the window (days ahead),
the category filter and the page come from the query string; `?format=csv` exports
every row of the same list."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from lavka.analytics.buying import (
    OVERDUE_DAYS,
    WINDOWS,
    DueRow,
    due_categories_of,
    due_list,
    due_owner_choices,
    due_rows,
    due_team_choices,
)
from lavka.analytics.permissions import can_read_analytics
from lavka.analytics.selectors import run_current
from lavka.web.requests import AuthedRequest

DEFAULT_WINDOW = 14
# Probability of leaving read in colour: below 30% good, below 60% needs attention.
LEAVE_WARN = 0.3
LEAVE_RISK = 0.6


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _filters(request: AuthedRequest) -> dict[str, Any]:
    within = _int(request.GET.get("within"))
    owner_text = request.GET.get("owner", "")
    owner = request.user.pk if owner_text == "me" else _int(owner_text)
    return {
        "within_days": within if within in WINDOWS else DEFAULT_WINDOW,
        "owner": owner,
        "team": _int(request.GET.get("team")),
        "category": _int(request.GET.get("category")),
    }


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_lines(rows: Iterator[DueRow], currency: str) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"
    yield writer.writerow(
        [
            "client_id",
            "client",
            "owner",
            "due_on",
            "days",
            "overdue",
            "basis",
            "due_category",
            "category_due_on",
            "cycle_days",
            "next_purchase_on",
            "offer",
            "offer_reason",
            "offer_share",
            "last_purchase_on",
            "clv",
            "currency",
            "leave_probability",
        ]
    )
    for r in rows:
        yield writer.writerow(
            [
                r.client_id,
                r.client,
                r.owner,
                r.due_on.isoformat() if r.due_on else "",
                "" if r.days is None else r.days,
                "yes" if r.is_overdue else "no",
                "model" if r.by_model else "category",
                r.due_category or "",
                r.category_due_on.isoformat() if r.category_due_on else "",
                "" if r.cycle_days is None else round(r.cycle_days, 1),
                r.next_purchase_on.isoformat() if r.next_purchase_on else "",
                r.offer_product or "",
                r.offer_reason,
                "" if r.offer_share is None else round(r.offer_share, 4),
                r.last_on.isoformat(),
                "" if r.clv is None else round(r.clv, 2),
                currency,
                "" if r.leave_probability is None else round(r.leave_probability, 4),
            ]
        )


def _tone(probability: float | None) -> str:
    if probability is None:
        return ""
    if probability >= LEAVE_RISK:
        return "risk"
    return "warn" if probability >= LEAVE_WARN else "good"


@login_required
@require_GET
def due(request: AuthedRequest) -> HttpResponse | StreamingHttpResponse:
    if not can_read_analytics(request.user):
        raise Http404
    request.nav_section = "analytics"  # type: ignore[attr-defined]
    filters = _filters(request)
    if request.GET.get("format") == "csv":
        run = run_current(viewer=request.user)
        if run is None:
            raise Http404
        response = StreamingHttpResponse(
            _csv_lines(due_rows(viewer=request.user, **filters), run.currency),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="due-to-buy-{filters["within_days"]}-days.csv"'
        )
        return response
    page = due_list(viewer=request.user, page=_int(request.GET.get("page")) or 1, **filters)
    owners = due_owner_choices(viewer=request.user)
    teams = due_team_choices(viewer=request.user)
    context: dict[str, Any] = {
        "page": page,
        "rows": [{"row": r, "tone": _tone(r.leave_probability)} for r in page.rows],
        "windows": WINDOWS,
        "within": filters["within_days"],
        "owner": request.GET.get("owner", ""),
        "team": filters["team"],
        "category": filters["category"],
        "owners": owners if len(owners) > 1 else [],
        "teams": teams,
        "categories": due_categories_of(viewer=request.user),
        "overdue_days": OVERDUE_DAYS,
        "typical": (page.report or {}).get("categories", [])[:10],
        "first_row": (page.page - 1) * page.per_page + 1,
        "last_row": (page.page - 1) * page.per_page + len(page.rows),
    }
    return render(request, "web/analytics/due.html", context)


urlpatterns: list[Any] = [
    path("analytics/due/", due, name="due"),
]
