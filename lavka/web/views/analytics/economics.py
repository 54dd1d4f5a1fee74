"""Analytics page "Lifecycle and economics": lifecycle stages, the costs entered (add,
change, delete), the economics figures of the last recompute, the seeds' three claims
computed for the user's base and the retention simulation.

Stages and the cost of loss are counted over the clients the viewer may read (a viewer
who sees the whole base reads them from the run); costs and the figures built on them
are company-wide."""

from __future__ import annotations

import csv
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from lavka.analytics.costs import (
    TOUCH_KINDS,
    can_enter_costs,
    cost_create,
    cost_delete,
    cost_get,
    cost_list,
    cost_update,
    costs_import_csv,
    economics_settings_update,
)
from lavka.analytics.economics import stages_visible_to
from lavka.analytics.engine.lifecycle import STAGE_LABELS
from lavka.analytics.engine.sufficiency import REASON_LABELS, Reason
from lavka.analytics.models import AnalyticsSettings, CostEntry
from lavka.analytics.permissions import can_change_analytics_settings, can_read_analytics
from lavka.analytics.selectors import run_current, sees_whole_base
from lavka.clients.models import Touchpoint
from lavka.core.errors import DomainError
from lavka.sales.selectors.catalogue import reporting_currency
from lavka.web.errors import form_attempt
from lavka.web.requests import AuthedRequest

# Colour carries meaning only: green good, amber needs attention, red at risk.
STAGE_TONE = {
    "new": "accent",
    "active": "good",
    "loyal": "good",
    "at_risk": "warn",
    "lapsed": "risk",
    "lost": "risk",
}
STAGE_HELP = {
    "new": gettext_lazy("First purchase within the last 90 days."),
    "active": gettext_lazy("Buying as the model expects."),
    "loyal": gettext_lazy("Four or more purchase days over at least half a year."),
    "at_risk": gettext_lazy("The model gives a real chance that they have left."),
    "lapsed": gettext_lazy("More likely gone than not."),
    "lost": gettext_lazy("Almost certainly gone."),
}


class CostForm(forms.Form):
    """The shape of the cost form; the rules are the service's (`costs._clean`)."""

    month = forms.CharField(
        label=gettext_lazy("Month"),
        required=False,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-05"}),
    )
    kind = forms.CharField(
        label=gettext_lazy("Kind"),
        required=False,
        widget=forms.Select(choices=CostEntry.Kind.choices),
    )
    channel = forms.CharField(
        label=gettext_lazy("Channel"),
        required=False,
        help_text=gettext_lazy("As written in the client's source; empty for the whole company."),
        widget=forms.TextInput(attrs={"list": "cost-channels"}),
    )
    campaign = forms.CharField(label=gettext_lazy("Campaign"), required=False)
    amount = forms.CharField(
        label=gettext_lazy("Amount"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    currency = forms.CharField(
        label=gettext_lazy("Currency"),
        required=False,
        widget=forms.TextInput(attrs={"size": 4, "maxlength": 3}),
    )
    note = forms.CharField(
        label=gettext_lazy("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class SettingsForm(forms.Form):
    gross_margin_percent = forms.CharField(
        label=gettext_lazy("Gross margin, %"),
        required=False,
        help_text=gettext_lazy("Turns revenue into profit for payback and the simulation."),
    )
    contact_hour_cost = forms.CharField(
        label=gettext_lazy("Cost of an hour of contact time"), required=False
    )
    retention_uplift_points = forms.CharField(
        label=gettext_lazy("Retention rise to simulate, percentage points"), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for value, label in Touchpoint.Kind.choices:
            self.fields[f"touch_cost_{value}"] = forms.CharField(
                label=_("Cost of one touch: %(kind)s") % {"kind": str(label).lower()},
                required=False,
            )

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "gross_margin_percent": data["gross_margin_percent"],
            "contact_hour_cost": data["contact_hour_cost"],
            "retention_uplift_points": data["retention_uplift_points"],
            "touch_costs": {
                kind: data[f"touch_cost_{kind}"]
                for kind in TOUCH_KINDS
                if data.get(f"touch_cost_{kind}") not in (None, "")
            },
        }


def _settings_initial(stored: AnalyticsSettings) -> dict[str, Any]:
    initial: dict[str, Any] = {
        "gross_margin_percent": f"{stored.gross_margin_percent:g}",
        "contact_hour_cost": stored.contact_hour_cost,
        "retention_uplift_points": f"{stored.retention_uplift_points:g}",
    }
    for kind, amount in (stored.touch_costs or {}).items():
        initial[f"touch_cost_{kind}"] = amount
    return initial


def _cost_initial(cost: CostEntry) -> dict[str, Any]:
    return {
        "month": cost.month.strftime("%Y-%m"),
        "kind": cost.kind,
        "channel": cost.channel,
        "campaign": cost.campaign,
        "amount": cost.amount,
        "currency": cost.currency,
        "note": cost.note,
    }


def _percent(share: float | None, places: int = 1) -> float | None:
    return None if share is None else round(100 * share, places)


def _claims(report: dict[str, Any]) -> dict[str, Any]:
    """The seeds' three claims for this base, with the shares as percentages (None:
    not computable, with the reason where the model is missing)."""
    simulation = report.get("simulation") or {}
    missing = simulation.get("missing")
    first_year = report.get("first_year") or {}
    scenario: dict[str, Any] | None = None
    if missing is None and simulation:
        scenario = {
            **simulation,
            "profit_change_percent": _percent(simulation.get("profit_change_share")),
            "retention_now": _percent(simulation["base"]["retention"], 2),
            "capped": simulation.get("achieved_points", simulation["uplift_points"])
            < simulation["uplift_points"] - 1e-6,
            "revenue_change_percent": _percent(simulation.get("revenue_change_share")),
            "rows": [
                (
                    _("Chance of staying after a purchase"),
                    "percent",
                    _percent(simulation["base"]["retention"]),
                    _percent(simulation["scenario"]["retention"]),
                ),
                (
                    _("Average probability of being active"),
                    "percent",
                    _percent(simulation["base"]["p_alive"]),
                    _percent(simulation["scenario"]["p_alive"]),
                ),
                (
                    _("Expected purchases in the next 365 days"),
                    "number",
                    simulation["base"]["purchases_365"],
                    simulation["scenario"]["purchases_365"],
                ),
                (
                    _("Expected revenue"),
                    "money",
                    simulation["base"]["revenue"],
                    simulation["scenario"]["revenue"],
                ),
                (
                    _("Expected profit"),
                    "money",
                    simulation["base"]["profit"],
                    simulation["scenario"]["profit"],
                ),
                (
                    _("Average lifetime value"),
                    "money",
                    simulation["base"]["clv"],
                    simulation["scenario"]["clv"],
                ),
            ],
        }
    return {
        "ratio": report.get("cost_ratio"),
        "cac": report.get("cac"),
        "retention": (report.get("retention") or {}).get("per_client"),
        "first_year": first_year,
        "after_year_percent": _percent(first_year.get("share_after_year"), 0),
        "simulation": scenario,
        "simulation_missing": REASON_LABELS.get(Reason(missing)) if missing else None,
    }


def _page(
    request: AuthedRequest,
    *,
    cost_form: CostForm | None = None,
    editing: CostEntry | None = None,
    settings_form: SettingsForm | None = None,
    import_errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    viewer = request.user
    if not can_read_analytics(viewer):
        raise Http404
    request.nav_section = "analytics"  # type: ignore[attr-defined]
    run = run_current(viewer=viewer)
    report = (run.reports or {}).get("economics") if run is not None else None
    if report is not None and "error" in report:
        report = None
    whole_base = sees_whole_base(viewer)
    stages: list[dict[str, Any]] = []
    loss: dict[str, Any] = {}
    if run is not None and report is not None:
        if whole_base:
            stages, loss = report["stages"], report["cost_of_loss"]
        else:
            stages, loss = stages_visible_to(viewer=viewer, run=run)
    top = max((s["clients"] for s in stages), default=0) or 1
    clients_url = reverse("clients:list")
    if report is not None and request.GET.get("export"):
        return _csv(request.GET["export"], report, stages, run.currency if run else "")
    rows = [
        {
            **s,
            "label": STAGE_LABELS[s["code"]],
            "help": STAGE_HELP[s["code"]],
            "tone": STAGE_TONE[s["code"]],
            "bar": round(100 * s["clients"] / top),
            "days": None if s["average_days"] is None else int(s["average_days"] + 0.5),
            "url": f"{clients_url}?stage={s['code']}",
        }
        for s in stages
    ]
    can_enter = can_enter_costs(viewer)
    can_settings = can_change_analytics_settings(viewer)
    stored = AnalyticsSettings.objects.filter(pk=1).first() or AnalyticsSettings(pk=1)
    context: dict[str, Any] = {
        "run": run,
        "report": report,
        "currency": run.currency if run is not None else reporting_currency(),
        "whole_base": whole_base,
        "stages": rows,
        "stages_total": sum(s["clients"] for s in stages),
        "loss": loss,
        "loss_url": f"{clients_url}?stage=lost",
        "cac_by_month": _cac_rows(report, clients_url) if report else [],
        "acquired_url": _acquired_url(report, clients_url) if report else "",
        "claims": _claims(report) if report else None,
        "costs": cost_list(viewer=viewer),
        "can_enter": can_enter,
        "can_settings": can_settings,
        "editing": editing,
        "import_errors": import_errors or [],
        "cost_form": cost_form
        if cost_form is not None
        else CostForm(initial=_cost_initial(editing) if editing else {"kind": "acquisition"}),
        "settings": stored,
        "touch_costs": [
            (label, (stored.touch_costs or {}).get(value))
            for value, label in Touchpoint.Kind.choices
        ],
        "settings_form": settings_form or SettingsForm(initial=_settings_initial(stored)),
        "channels": sorted(
            {c.channel for c in CostEntry.objects.exclude(channel="").only("channel")}
        )[:200],
    }
    if report is not None and report.get("payback", {}).get("curve"):
        curve = report["payback"]["curve"]
        context["payback_rows"] = list(enumerate(curve, start=1))
        context["payback_chart"] = {
            "x": list(range(1, len(curve) + 1)),
            "y": curve,
            "cac": report.get("cac"),
            "labels": {
                "margin": _("Margin earned per client, cumulative"),
                "cac": _("Acquisition cost per client"),
                "xaxis": _("Month of the client's life"),
                "yaxis": run.currency if run is not None else "",
            },
        }
        context["plotly_url"] = reverse("analytics:plotly_js")
    return render(request, "web/analytics/economics.html", context, status=status)


def _cac_rows(report: dict[str, Any], clients_url: str) -> list[dict[str, Any]]:
    """The acquisition cost by month and channel, each with the list of the clients
    counted as new in it: first purchase in that month (and from that channel)."""
    rows = []
    for row in report.get("cac_by_month") or []:
        query = {"cohort": row["month"], **({"source": row["channel"]} if row["channel"] else {})}
        rows.append({**row, "url": f"{clients_url}?{urlencode(query)}"})
    return rows


def _acquired_url(report: dict[str, Any], clients_url: str) -> str:
    """The clients the CAC is divided by, when they are one month's new clients (with
    several months of costs, each month's row of the table below opens its own)."""
    months = (report.get("acquisition") or {}).get("months") or []
    return f"{clients_url}?{urlencode({'cohort': months[0]})}" if len(months) == 1 else ""


EXPORTS = ("stages", "payback", "channels", "cac")


def _csv(
    name: str, report: dict[str, Any], stages: list[dict[str, Any]], currency: str
) -> HttpResponse:
    """`?export=<name>.csv`: a table of the page as CSV (numbers only, and names that
    a spreadsheet could take for a formula get a leading quote)."""
    name = name.removesuffix(".csv")
    if name not in EXPORTS:
        raise Http404
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="economics-{name}.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)

    def text(value: Any) -> Any:
        return (
            "'" + value if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") else value
        )

    def blank(value: Any) -> Any:
        return "" if value is None else value

    if name == "stages":
        writer.writerow([_("Stage"), _("Clients"), _("Share"), _("Average length, days")])
        for s in stages:
            writer.writerow(
                [
                    str(STAGE_LABELS[s["code"]]),
                    s["clients"],
                    round(s["share"], 4),
                    blank(s["average_days"]),
                ]
            )
    elif name == "payback":
        writer.writerow([_("Month of life"), _("Margin earned per client"), _("Currency")])
        for month, value in enumerate((report.get("payback") or {}).get("curve") or [], start=1):
            writer.writerow([month, blank(value), currency])
    elif name == "channels":
        writer.writerow(
            [_("Channel"), _("Costs"), _("New clients"), "CAC", _("Payback month"), _("Currency")]
        )
        for c in report.get("channels") or []:
            writer.writerow(
                [
                    text(c["channel"]),
                    blank(c["cost"]),
                    c["new_clients"],
                    blank(c["cac"]),
                    blank(c.get("payback_month")),
                    currency,
                ]
            )
    else:
        writer.writerow(
            [_("Month"), _("Channel"), _("Costs"), _("New clients"), "CAC", _("Currency")]
        )
        for row in report.get("cac_by_month") or []:
            writer.writerow(
                [
                    row["month"],
                    text(row["channel"]),
                    blank(row["cost"]),
                    row["new_clients"],
                    blank(row["cac"]),
                    currency,
                ]
            )
    return response


@login_required
@require_GET
def economics(request: AuthedRequest) -> HttpResponse:
    return _page(request)


def _cost_values(form: CostForm) -> dict[str, Any]:
    # The service cleans the raw values, so each field gets one message in its words.
    return {name: form.data.get(name, "") for name in CostForm.base_fields}


@login_required
@require_POST
def add_cost(request: AuthedRequest) -> HttpResponse:
    form = CostForm(request.POST)
    form.is_valid()
    if form_attempt(form, lambda: cost_create(actor=request.user, **_cost_values(form))):
        messages.success(request, _("The cost has been added."))
        return redirect(f"{reverse('analytics:economics')}#costs")
    return _page(request, cost_form=form, status=422)


@login_required
@require_http_methods(["GET", "POST"])
def edit_cost(request: AuthedRequest, cost_id: int) -> HttpResponse:
    cost = cost_get(viewer=request.user, cost_id=cost_id)
    if request.method == "GET":
        return _page(request, editing=cost)
    form = CostForm(request.POST)
    form.is_valid()
    if form_attempt(form, lambda: cost_update(actor=request.user, cost=cost, **_cost_values(form))):
        messages.success(request, _("The cost has been changed."))
        return redirect(f"{reverse('analytics:economics')}#costs")
    return _page(request, cost_form=form, editing=cost, status=422)


@login_required
@require_POST
def delete_cost(request: AuthedRequest, cost_id: int) -> HttpResponse:
    cost = cost_get(viewer=request.user, cost_id=cost_id)
    cost_delete(actor=request.user, cost=cost)
    messages.success(request, _("The cost has been deleted."))
    return redirect(f"{reverse('analytics:economics')}#costs")


IMPORT_MAX_BYTES = 1 << 20
FIELD_NAMES = {
    "month": gettext_lazy("Month"),
    "kind": gettext_lazy("Kind"),
    "amount": gettext_lazy("Amount"),
    "channel": gettext_lazy("Channel"),
    "campaign": gettext_lazy("Campaign"),
    "currency": gettext_lazy("Currency"),
    "note": gettext_lazy("Note"),
}


def _import_error(key: str, message: str) -> str:
    """ "row 3: amount" -> "Row 3, amount: ..." in the user's language."""
    row, _sep, name = key.partition(": ")
    if not row.startswith("row ") or not name:
        return message
    return _("Row %(row)s, %(field)s: %(message)s") % {
        "row": row.removeprefix("row "),
        "field": str(FIELD_NAMES.get(name, name)).lower(),
        "message": message,
    }


@login_required
@require_POST
def import_costs(request: AuthedRequest) -> HttpResponse:
    """Costs from a CSV file (see `costs_import_csv`): all rows or none."""
    upload = request.FILES.get("file")
    if upload is not None and upload.size is not None and upload.size > IMPORT_MAX_BYTES:
        return _page(request, import_errors=[_("The file is larger than 1 MB.")], status=422)
    try:
        created = costs_import_csv(actor=request.user, data=upload.read() if upload else b"")
    except DomainError as exc:
        if exc.http_status in (403, 404):
            raise
        errors = [_import_error(k, str(m)) for k, ms in exc.fields.items() for m in ms]
        return _page(request, import_errors=errors or [exc.detail], status=422)
    messages.success(
        request,
        ngettext(
            "%(count)s cost has been imported.", "%(count)s costs have been imported.", len(created)
        )
        % {"count": len(created)},
    )
    return redirect(f"{reverse('analytics:economics')}#costs")


@login_required
@require_POST
def change_economics_settings(request: AuthedRequest) -> HttpResponse:
    form = SettingsForm(request.POST)
    form.is_valid()
    try:
        economics_settings_update(actor=request.user, **form.changes())
    except DomainError as exc:
        if exc.http_status in (403, 404):
            raise
        for name, field_messages in exc.fields.items():
            target = (
                f"touch_cost_{name.split('.', 1)[1]}" if name.startswith("touch_costs.") else name
            )
            for message in field_messages:
                form.add_error(target if target in form.fields else None, message)
        return _page(request, settings_form=form, status=422)
    messages.success(request, _("Saved. The figures change with the next recompute."))
    return redirect(f"{reverse('analytics:economics')}#economics-settings")


urlpatterns: list[Any] = [
    path("analytics/economics/", economics, name="economics"),
    path("analytics/economics/costs/", add_cost, name="cost_add"),
    path("analytics/economics/costs/<int:cost_id>/", edit_cost, name="cost_edit"),
    path("analytics/economics/costs/<int:cost_id>/delete/", delete_cost, name="cost_delete"),
    path("analytics/economics/costs/import/", import_costs, name="cost_import"),
    path(
        "analytics/economics/settings/",
        change_economics_settings,
        name="economics_settings",
    ),
]
