"""Pages of the analytics area: the overview of the last recompute (fitted parameters,
RFM segments, the ABC-XYZ matrix, time per step) with the "Recompute now" button,
which starts a background job whose progress shows on the same page."""

from __future__ import annotations

import csv
import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from lavka.analytics.engine.sufficiency import REASON_LABELS, Reason
from lavka.analytics.permissions import can_read_analytics, can_recompute
from lavka.analytics.selectors import (
    abc_xyz_cells,
    run_current,
    run_list,
    segment_counts,
    segment_moves,
)
from lavka.analytics.services import analytics_recompute_start
from lavka.core.errors import ValidationFailed
from lavka.jobs.selectors import jobs_visible_to
from lavka.web.requests import AuthedRequest
from lavka.web.views.analytics.dashboard import SEGMENT_BY_LABEL, flow_drills

STEP_LABELS = {
    "load": gettext_lazy("Loading orders"),
    "convert": gettext_lazy("Currency conversion"),
    "summary": gettext_lazy("Purchase summary"),
    "rfm": gettext_lazy("RFM"),
    "abc_xyz": gettext_lazy("ABC and XYZ"),
    "bgnbd_fit": gettext_lazy("BG/NBD fit"),
    "gamma_gamma_fit": gettext_lazy("Gamma-Gamma fit"),
    "scoring": gettext_lazy("Scores and CLV"),
    "products": gettext_lazy("Products"),
    "write": gettext_lazy("Saving the results"),
    "moves": gettext_lazy("Movement between segments"),
}
# Colour carries meaning only: green good, amber needs attention, red at risk.
SEGMENT_TONE = {
    "champions": "good",
    "loyal": "good",
    "promising": "good",
    "needs_attention": "warn",
    "at_risk": "warn",
    "cant_lose": "risk",
    "hibernating": "risk",
    "lost": "risk",
}


def _fit(fit: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    if "not_enough_data" in fit:
        reason = Reason(int(fit["not_enough_data"]))
        return {"missing": REASON_LABELS[reason], "fit": fit}
    return {
        "params": [(k, fit.get(k)) for k in keys],
        "log_likelihood": fit.get("log_likelihood"),
        "clients": fit.get("n"),
        "iterations": fit.get("iterations"),
    }


def _page(
    request: AuthedRequest, *, as_of_text: str = "", as_of_error: str = "", status: int = 200
) -> HttpResponse:
    if not can_read_analytics(request.user):
        raise Http404
    request.nav_section = "analytics"  # type: ignore[attr-defined]
    runs = run_list(viewer=request.user, limit=10)
    run = run_current(viewer=request.user)
    job = None
    job_id = request.GET.get("job", "")
    if job_id.isdigit():
        job = jobs_visible_to(request.user).filter(pk=int(job_id)).first()
    context: dict[str, Any] = {
        "run": run,
        "runs": runs,
        "last_failed": runs[0] if runs and runs[0].status == "failed" else None,
        "job": job,
        "can_recompute": can_recompute(request.user),
        "today": timezone.localdate(),
        "as_of_text": as_of_text,
        "as_of_error": as_of_error,
    }
    if run is not None:
        list_url = reverse("clients:list")
        moves = segment_moves(viewer=request.user, run=run)
        segments = segment_counts(viewer=request.user, run=run)
        top = max((s.clients for s in segments), default=0) or 1
        context.update(
            segments=[
                {
                    "code": str(s.segment),
                    "label": s.label,
                    "clients": s.clients,
                    "share": s.share,
                    "bar": round(100 * s.clients / top),
                    "tone": SEGMENT_TONE[str(s.segment)],
                    "url": f"{list_url}?{urlencode({'segment': str(s.segment)})}",
                }
                for s in segments
            ],
            segments_total=sum(s.clients for s in segments),
            matrix=[
                [
                    {
                        "abc": cell.abc,
                        "xyz": cell.xyz,
                        "clients": cell.clients,
                        "revenue": cell.revenue,
                        "url": f"{list_url}?{urlencode({'abc': cell.abc, 'xyz': cell.xyz})}",
                    }
                    for cell in row
                ]
                for row in abc_xyz_cells(viewer=request.user, run=run)
            ],
            moves=moves,
            flows=[
                {
                    "before": f.before,
                    "now": f.now,
                    "clients": f.clients,
                    **flow_drills(
                        {
                            "before_code": SEGMENT_BY_LABEL.get(str(f.before), ""),
                            "now_code": SEGMENT_BY_LABEL.get(str(f.now), ""),
                        },
                        list_url,
                    ),
                }
                for f in (moves.changes if moves else [])[:12]
            ],
            bgnbd=_fit(run.parameters.get("bgnbd", {}), ("r", "alpha", "a", "b")),
            gamma_gamma=_fit(run.parameters.get("gamma_gamma", {}), ("p", "q", "gamma")),
            steps=[
                {"label": STEP_LABELS.get(name, name), "seconds": seconds}
                for name, seconds in run.step_times
            ],
            steps_total=sum(seconds for _, seconds in run.step_times),
            window=(run.abc_xyz or {}).get("window", []),
        )
    return render(request, "web/analytics/overview.html", context, status=status)


@login_required
@require_GET
def overview(request: AuthedRequest) -> HttpResponse:
    export = request.GET.get("export", "")
    if export:
        return _csv(request, export.removesuffix(".csv"))
    return _page(request)


EXPORTS = ("segments", "matrix", "moves")


def _csv(request: AuthedRequest, name: str) -> HttpResponse:
    """`?export=segments|matrix|moves.csv`: the page's tables as CSV, for the viewer's
    clients (the movement: for a viewer who sees the whole base)."""
    if not can_read_analytics(request.user) or name not in EXPORTS:
        raise Http404
    run = run_current(viewer=request.user)
    if run is None:
        raise Http404
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="analytics-{name}.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    if name == "segments":
        writer.writerow([_("Segment"), _("Code"), _("Clients"), _("Share")])
        for s in segment_counts(viewer=request.user, run=run):
            writer.writerow([str(s.label), str(s.segment), s.clients, round(s.share, 4)])
    elif name == "matrix":
        writer.writerow([_("Class"), _("Clients"), _("Revenue in the window"), _("Currency")])
        for row in abc_xyz_cells(viewer=request.user, run=run):
            for cell in row:
                writer.writerow(
                    [cell.abc + cell.xyz, cell.clients, round(cell.revenue, 2), run.currency]
                )
    else:
        moves = segment_moves(viewer=request.user, run=run)
        writer.writerow([_("Segment before"), _("Segment now"), _("Clients")])
        for flow in moves.changes if moves else []:
            writer.writerow([str(flow.before), str(flow.now), flow.clients])
    return response


@login_required
@require_POST
def recompute(request: AuthedRequest) -> HttpResponse:
    as_of_text = request.POST.get("as_of", "").strip()
    as_of = None
    if as_of_text:
        try:
            as_of = dt.date.fromisoformat(as_of_text)
        except ValueError:
            return _page(
                request,
                as_of_text=as_of_text,
                as_of_error=_("Enter a date such as %(example)s, or leave it empty for today.")
                % {"example": timezone.localdate().isoformat()},
                status=422,
            )
    try:
        job = analytics_recompute_start(actor=request.user, as_of=as_of)
    except ValidationFailed as exc:
        return _page(
            request,
            as_of_text=as_of_text,
            as_of_error=" ".join(str(m) for m in exc.fields.get("as_of", [exc.message])),
            status=422,
        )
    return redirect(f"{reverse('analytics:overview')}?job={job.pk}")


urlpatterns: list[Any] = [
    path("analytics/segments/", overview, name="overview"),
    path("analytics/recompute/", recompute, name="recompute"),
]
