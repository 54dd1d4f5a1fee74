"""Pages of the key-accounts area: the list of key accounts, one key account's page
(decision cycle, stakeholder map, entry chains, relationships, influence plan), the
deal status report and the key-client dossier (HTML, printable, and PDF), and the
settings of the decision cycle and its playbook.

Every form posts to a view that calls one service and redirects back to its section;
a refused form re-renders the page with the messages next to the fields (422)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from lavka.analytics.selectors import CardScores, client_scores
from lavka.clients.models import Person
from lavka.clients.selectors import clients_visible_to
from lavka.clients.selectors.blocks import people_visible_to
from lavka.core.errors import NotFound, NotPermitted, ValidationFailed
from lavka.core.pdf import PdfDocument
from lavka.keyaccounts.models import KeyAccount, Relationship, Stakeholder
from lavka.keyaccounts.permissions import (
    can_edit_key_account,
    can_manage_key_account_settings,
    can_read_key_accounts,
    can_write_key_accounts,
)
from lavka.keyaccounts.reports import DealStatusReport, Dossier, deal_status_report, dossier
from lavka.keyaccounts.selectors import (
    decision_stage_get,
    decision_stages,
    entry_chains,
    influence_action_get,
    influence_plan,
    key_account_deals,
    key_account_get,
    key_account_list,
    open_deal_totals,
    playbook,
    playbook_action_get,
    relationship_get,
    relationships_around,
    stage_history,
    stakeholder_get,
    stakeholder_map,
)
from lavka.keyaccounts.services import (
    decision_stage_create,
    decision_stage_update,
    influence_action_complete,
    influence_plan_apply,
    key_account_create,
    key_account_set_stage,
    key_account_update,
    playbook_action_create,
    playbook_action_delete,
    relationship_create,
    relationship_delete,
    stakeholder_add,
    stakeholder_remove,
)
from lavka.sales.selectors.deals import deals_visible_to
from lavka.web.requests import AuthedRequest
from lavka.web.templatetags.lavka import money

app_name = "keyaccounts"
SECTION = "keyaccounts"


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _id(value: Any) -> int:
    """An id from a form; 0 (no such record) when it is not a number."""
    return _int(value) or 0


def _require_area(request: AuthedRequest) -> None:
    if not can_read_key_accounts(request.user):
        raise NotPermitted(action="read", resource="key accounts")
    request.nav_section = SECTION  # type: ignore[attr-defined]


def _totals_label(totals: dict[str, Any]) -> str:
    return " · ".join(money(amount, currency) for currency, amount in sorted(totals.items()))


# --- the list ---------------------------------------------------------------------------


@login_required
def list_key_accounts(request: AuthedRequest) -> HttpResponse:
    """The key accounts the user may see, and a form to mark a client as key."""
    _require_area(request)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        client = clients_visible_to(request.user).filter(pk=_id(request.POST.get("client"))).first()
        manager = (
            get_user_model().objects.filter(pk=_id(request.POST.get("manager"))).first()
            if request.POST.get("manager")
            else None
        )
        try:
            if client is None:
                raise ValidationFailed(fields={"client": [_("Choose a client.")]})
            account = key_account_create(actor=request.user, client=client, manager=manager)
        except ValidationFailed as error:
            errors = error.fields
        else:
            messages.success(
                request, _("%(client)s is now a key account.") % {"client": client.name}
            )
            return redirect("keyaccounts:show", account.pk)
    query = request.GET.get("q", "").strip()[:100]
    accounts = list(key_account_list(viewer=request.user, query=query)[:200])
    totals = open_deal_totals(viewer=request.user, client_ids=[a.client_id for a in accounts])
    for account in accounts:
        account.open_amount_label = _totals_label(totals.get(account.client_id, {}))  # type: ignore[attr-defined]
    find = request.GET.get("find", "").strip()[:100]
    candidates: list[dict[str, Any]] = []
    can_create = can_write_key_accounts(request.user)
    if can_create:
        clients = clients_visible_to(request.user).filter(key_account__isnull=True)
        for word in find.split():
            clients = clients.filter(name__icontains=word)
        candidates = [
            {"pk": pk, "name": name}
            for pk, name in clients.order_by("name", "id").values_list("pk", "name")[:50]
        ]
    return render(
        request,
        "web/keyaccounts/list.html",
        {
            "accounts": accounts,
            "query": query,
            "find": find,
            "candidates": candidates,
            "can_create": can_create,
            "managers": _managers() if can_create else [],
            "errors": errors,
        },
        status=422 if errors else 200,
    )


def _managers() -> list[Any]:
    return list(get_user_model().objects.filter(is_active=True).order_by("username")[:200])


# --- one key account --------------------------------------------------------------------


def _account_context(request: AuthedRequest, account: KeyAccount, **extra: Any) -> dict[str, Any]:
    user = request.user
    deals = key_account_deals(viewer=user, key_account=account)
    chains = entry_chains(viewer=user, key_account=account)
    visible_people = people_visible_to(user).filter(deleted_at__isnull=True)
    return {
        "account": account,
        "client": account.client,
        "can_edit": can_edit_key_account(user, account),
        "can_write_relationships": can_write_key_accounts(user),
        "stages": decision_stages(viewer=user),
        "history": list(reversed(stage_history(viewer=user, key_account=account))),
        "map": stakeholder_map(key_account=account),
        "roles": Stakeholder.Role.choices,
        "attitudes": Stakeholder.Attitude.choices,
        "chains_shortest": [c for c in chains if c.measure == "shortest"],
        "chains_strongest": [c for c in chains if c.measure == "strongest"],
        "relationships": relationships_around(viewer=user, key_account=account),
        "relationship_kinds": Relationship.Kind.choices,
        "people_choices": list(visible_people.order_by("last_name", "first_name", "id")[:300]),
        "colleagues": _managers(),
        "deals": deals,
        "plan": influence_plan(key_account=account),
        "playbook": playbook(viewer=user, stage=account.stage) if account.stage else [],
        "errors": {},
        **extra,
    }


def _back(account_id: int, anchor: str) -> HttpResponse:
    return redirect(reverse("keyaccounts:show", args=[account_id]) + f"#{anchor}")


def _refused(
    request: AuthedRequest, account: KeyAccount, form: str, error: ValidationFailed
) -> HttpResponse:
    errors = {form: error.fields or {"general": [error.detail]}}
    return render(
        request,
        "web/keyaccounts/show.html",
        _account_context(request, account, errors=errors),
        status=422,
    )


@login_required
@require_GET
def show_key_account(request: AuthedRequest, key_account_id: int) -> HttpResponse:
    _require_area(request)
    account = key_account_get(viewer=request.user, key_account_id=key_account_id)
    return render(request, "web/keyaccounts/show.html", _account_context(request, account))


@login_required
@require_POST
def set_decision_stage(request: AuthedRequest, key_account_id: int) -> HttpResponse:
    _require_area(request)
    account = key_account_get(viewer=request.user, key_account_id=key_account_id)
    try:
        stage = decision_stage_get(
            viewer=request.user, stage_id=_int(request.POST.get("stage")) or 0
        )
    except NotFound:
        return _refused(
            request, account, "stage", ValidationFailed(fields={"stage": [_("Choose a stage.")]})
        )
    try:
        key_account_set_stage(
            actor=request.user, key_account=account, stage=stage, note=request.POST.get("note", "")
        )
    except ValidationFailed as error:
        return _refused(request, account, "stage", error)
    return _back(account.pk, "cycle")


@login_required
@require_POST
def update_key_account(request: AuthedRequest, key_account_id: int) -> HttpResponse:
    _require_area(request)
    account = key_account_get(viewer=request.user, key_account_id=key_account_id)
    changes: dict[str, Any] = {}
    for name in ("risks", "notes"):
        if name in request.POST:
            changes[name] = request.POST[name]
    if request.POST.get("owner"):
        changes["owner"] = get_user_model().objects.filter(pk=_id(request.POST["owner"])).first()
    try:
        key_account_update(actor=request.user, key_account=account, **changes)
    except ValidationFailed as error:
        return _refused(request, account, "account", error)
    return _back(account.pk, "about")


def _person(request: AuthedRequest, name: str) -> Person | None:
    person_id = _int(request.POST.get(name))
    if person_id is None:
        return None
    return people_visible_to(request.user).filter(pk=person_id).first()


@login_required
@require_POST
def add_stakeholder(request: AuthedRequest, key_account_id: int) -> HttpResponse:
    _require_area(request)
    account = key_account_get(viewer=request.user, key_account_id=key_account_id)
    person = _person(request, "person")
    try:
        if person is None:
            raise ValidationFailed(
                fields={"person": [_("Choose a person who works at this client.")]}
            )
        stakeholder_add(
            actor=request.user,
            key_account=account,
            person=person,
            role=request.POST.get("role", ""),
            influence=_int(request.POST.get("influence")) or 0,
            attitude=request.POST.get("attitude", Stakeholder.Attitude.NEUTRAL),
            pain=request.POST.get("pain", ""),
            help=request.POST.get("help", ""),
            notes=request.POST.get("notes", ""),
        )
    except ValidationFailed as error:
        return _refused(request, account, "stakeholder", error)
    return _back(account.pk, "map")


@login_required
@require_POST
def remove_stakeholder(
    request: AuthedRequest, key_account_id: int, stakeholder_id: int
) -> HttpResponse:
    _require_area(request)
    account = key_account_get(viewer=request.user, key_account_id=key_account_id)
    stakeholder = stakeholder_get(viewer=request.user, stakeholder_id=stakeholder_id)
    if stakeholder.key_account_id != account.pk:
        raise NotFound(resource="stakeholder", id=stakeholder_id)
    stakeholder_remove(actor=request.user, stakeholder=stakeholder)
    return _back(account.pk, "map")


@login_required
@require_POST
def add_relationship(request: AuthedRequest, key_account_id: int) -> HttpResponse:
    _require_area(request)
    account = key_account_get(viewer=request.user, key_account_id=key_account_id)
    source = request.POST.get("source", "")
    from_person = from_user = None
    if source.startswith("user:"):
        from_user = get_user_model().objects.filter(pk=_id(source[5:]), is_active=True).first()
    elif source.startswith("person:"):
        from_person = people_visible_to(request.user).filter(pk=_id(source[7:])).first()
    to_person = _person(request, "to_person")
    try:
        if to_person is None:
            raise ValidationFailed(fields={"to_person": [_("Choose the person they know.")]})
        if from_person is None and from_user is None:
            raise ValidationFailed(
                fields={
                    "from_person": [_("Say who knows the person: one person or one colleague.")]
                }
            )
        relationship_create(
            actor=request.user,
            from_person=from_person,
            from_user=from_user,
            to_person=to_person,
            kind=request.POST.get("kind", Relationship.Kind.KNOWS),
            strength=_int(request.POST.get("strength")) or 0,
            notes=request.POST.get("notes", ""),
        )
    except ValidationFailed as error:
        return _refused(request, account, "relationship", error)
    return _back(account.pk, "chains")


@login_required
@require_POST
def delete_relationship(
    request: AuthedRequest, key_account_id: int, relationship_id: int
) -> HttpResponse:
    _require_area(request)
    account = key_account_get(viewer=request.user, key_account_id=key_account_id)
    relationship = relationship_get(viewer=request.user, relationship_id=relationship_id)
    relationship_delete(actor=request.user, relationship=relationship)
    return _back(account.pk, "chains")


@login_required
@require_POST
def apply_playbook(request: AuthedRequest, key_account_id: int) -> HttpResponse:
    _require_area(request)
    account = key_account_get(viewer=request.user, key_account_id=key_account_id)
    deal = None
    if request.POST.get("deal"):
        deal = deals_visible_to(request.user).filter(pk=_id(request.POST["deal"])).first()
    try:
        created = influence_plan_apply(actor=request.user, key_account=account, deal=deal)
    except ValidationFailed as error:
        return _refused(request, account, "plan", error)
    if not created:
        messages.info(request, _("Every action of this stage's playbook is already planned."))
    return _back(account.pk, "plan")


@login_required
@require_POST
def complete_influence_action(
    request: AuthedRequest, key_account_id: int, action_id: int
) -> HttpResponse:
    _require_area(request)
    account = key_account_get(viewer=request.user, key_account_id=key_account_id)
    action = influence_action_get(viewer=request.user, action_id=action_id)
    if action.key_account_id != account.pk:
        raise NotFound(resource="influence action", id=action_id)
    try:
        influence_action_complete(
            actor=request.user, action=action, effect=request.POST.get("effect", "")
        )
    except ValidationFailed as error:
        error.fields = {f"{k}.{action.pk}": v for k, v in (error.fields or {}).items()}
        return _refused(request, account, "effect", error)
    return _back(account.pk, "plan")


# --- the deal status report and the dossier --------------------------------------------


def _when(value: Any) -> str:
    if value is None:
        return "—"
    if hasattr(value, "tzinfo"):
        value = timezone.localtime(value)
        return date_format(value, "SHORT_DATETIME_FORMAT")
    return date_format(value, "SHORT_DATE_FORMAT")


def _report(request: AuthedRequest, key_account_id: int) -> DealStatusReport:
    _require_area(request)
    account = key_account_get(viewer=request.user, key_account_id=key_account_id)
    return deal_status_report(
        viewer=request.user, key_account=account, deal_id=_int(request.GET.get("deal"))
    )


@login_required
@require_GET
def deal_report(request: AuthedRequest, key_account_id: int) -> HttpResponse:
    report = _report(request, key_account_id)
    deals = key_account_deals(viewer=request.user, key_account=report.key_account)
    return render(
        request,
        "web/keyaccounts/report.html",
        {"report": report, "account": report.key_account, "deals": deals},
    )


def _stakeholder_line(s: Stakeholder) -> list[str]:
    extra = " / ".join(x for x in (s.pain, s.help) if x)
    return [
        s.person.full_name,
        str(s.get_role_display()),
        f"{s.influence}/5",
        str(s.get_attitude_display()),
        extra or s.notes[:120],
    ]


def _stakeholder_table(doc: PdfDocument, lanes: list[Any]) -> None:
    rows = [_stakeholder_line(s) for _r, _l, members in lanes for s in members]
    if rows:
        doc.table(
            [_("Person"), _("Role"), _("Influence"), _("Attitude"), _("Notes")],
            rows,
            widths=[3, 3, 1.3, 2, 4],
        )


def report_pdf(report: DealStatusReport) -> bytes:
    account = report.key_account
    deal = report.deal
    doc = PdfDocument(
        title=_("Deal status report"),
        subtitle=f"{account.client.name}" + (f" · {deal.title}" if deal else ""),
        footer=_("Generated %(when)s") % {"when": _when(report.generated_at)},
    )
    doc.key_values(
        [
            (_("Decision stage"), account.stage.name if account.stage else ""),
            (_("Key account manager"), str(account.owner)),
            (_("Deal"), deal.title if deal else _("No deal yet")),
            (_("Deal stage"), deal.stage.name if deal else ""),
            (_("Amount"), money(deal.amount, deal.currency) if deal else ""),
            (_("Probability"), f"{deal.probability}%" if deal else ""),
            (
                _("Weighted amount"),
                money(report.weighted_amount, deal.currency)
                if deal and report.weighted_amount is not None
                else "",
            ),
            (
                _("Expected close date"),
                _when(deal.expected_close_on) if deal and deal.expected_close_on else "",
            ),
        ]
    )
    doc.heading(_("Stakeholders"))
    if not report.has_power_point:
        doc.paragraph(_("Red flag: no power point is known."), warning=True)
    _stakeholder_table(doc, report.map.lanes)
    missing = [str(Stakeholder.Role(r).label) for r in report.map.missing_roles]
    doc.paragraph(
        _("Missing: %(roles)s") % {"roles": ", ".join(missing)}
        if missing
        else _("All three points are known."),
        muted=True,
    )
    doc.heading(_("Risks"))
    for risk in report.risks or [_("No risks recorded.")]:
        doc.paragraph(f"• {risk}")
    doc.heading(_("Next steps"))
    if report.open_tasks:
        doc.table(
            [_("Due"), _("Task"), _("Assignee")],
            [[_when(t.due_at), t.title, str(t.assignee)] for t in report.open_tasks],
            widths=[2, 5, 2],
        )
    else:
        doc.paragraph(_("No open tasks."), muted=True)
    doc.heading(_("Decision cycle history"))
    doc.table(
        [_("When"), _("Stage"), _("Who"), _("Note")],
        [
            [_when(s.changed_at), s.to_stage.name, str(s.changed_by or ""), s.note]
            for s in report.stage_history
        ]
        or [["—", "", "", ""]],
        widths=[2, 3, 2, 4],
    )
    doc.heading(_("Timeline"))
    doc.table(
        [_("When"), _("What")],
        [[_when(e.at), e.text] for e in report.timeline] or [["—", ""]],
        widths=[2, 7],
    )
    return doc.output()


@login_required
@require_GET
def deal_report_pdf(request: AuthedRequest, key_account_id: int) -> HttpResponse:
    report = _report(request, key_account_id)
    response = HttpResponse(report_pdf(report), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="deal-status-{report.key_account.pk}.pdf"'
    )
    return response


def _dossier(request: AuthedRequest, key_account_id: int) -> Dossier:
    _require_area(request)
    account = key_account_get(viewer=request.user, key_account_id=key_account_id)
    return dossier(viewer=request.user, key_account=account)


@login_required
@require_GET
def show_dossier(request: AuthedRequest, key_account_id: int) -> HttpResponse:
    data = _dossier(request, key_account_id)
    return render(
        request,
        "web/keyaccounts/dossier.html",
        {
            "dossier": data,
            "account": data.key_account,
            # The client card's analytics block (None: no scores, or not the viewer's).
            "analytics_scores": client_scores(viewer=request.user, client=data.card.client),
        },
    )


def _analytics_pairs(scores: CardScores) -> list[tuple[str, str]]:
    """The client card's analytics numbers as label/value pairs for a PDF."""
    missing = _("not enough data")
    leave = scores.leave_probability
    if scores.next_purchase_on:
        next_purchase = _when(scores.next_purchase_on)
    else:
        next_purchase = missing if scores.purchases_reason else _("not expected within two years")
    pairs = [
        (_("RFM segment"), f"{scores.segment_label} {scores.r}{scores.f}{scores.m}"),
        (_("ABC-XYZ class"), scores.abc_xyz),
        (_("Probability of leaving"), missing if leave is None else f"{round(leave * 100)}%"),
        (
            _("Expected purchases in 90 days"),
            missing
            if scores.expected_90 is None
            else number_format(scores.expected_90, 1, use_l10n=True),
        ),
        (
            ngettext(
                "Lifetime value, %(months)s month",
                "Lifetime value, %(months)s months",
                scores.clv_months,
            )
            % {"months": scores.clv_months},
            missing if scores.clv is None else money(scores.clv, scores.currency),
        ),
        (
            _("Expected order value"),
            missing
            if scores.expected_spend is None
            else money(scores.expected_spend, scores.currency),
        ),
        (_("Next purchase"), next_purchase),
    ]
    if scores.stage:
        pairs.append((_("Lifecycle stage"), capfirst(str(scores.stage_label))))
    return pairs


def dossier_pdf(data: Dossier, scores: CardScores | None = None) -> bytes:
    card = data.card
    client = card.client
    doc = PdfDocument(
        title=_("Key-client dossier"),
        subtitle=client.name,
        footer=_("Generated %(when)s") % {"when": _when(data.generated_at)},
    )
    doc.key_values(
        [
            (_("Key account manager"), str(data.key_account.owner)),
            (_("Decision stage"), data.key_account.stage.name if data.key_account.stage else ""),
            (_("Legal name"), client.legal_name),
            (_("Industry"), client.industry),
        ]
    )
    doc.heading(_("Addresses"))
    doc.paragraph("\n".join(str(a) for a in card.addresses) or client.city or "—")
    doc.heading(_("Contacts"))
    contacts = [v for v in (client.email, getattr(client, "phone_display", "")) if v]
    contacts += [str(p) for p in card.emails + card.phones + card.messengers]
    doc.paragraph(", ".join(contacts) or "—")
    if card.people:
        doc.table(
            [_("Person"), _("Job title"), _("Email"), _("Phone")],
            [
                [e.person.full_name, e.job_title, e.person.email, e.person.phone]
                for e in card.people
            ],
            widths=[3, 3, 3, 2],
        )
    doc.heading(_("Commercial"))
    doc.key_values(
        [
            (_("Currency"), client.currency),
            (_("Payment terms, days"), str(client.payment_terms_days or "")),
            (_("Price list"), client.price_list),
            (_("Discount, %"), str(client.discount_percent or "")),
            (
                _("Credit limit"),
                money(client.credit_limit, client.currency) if client.credit_limit else "",
            ),
            (_("Orders total"), _totals_label(data.orders_total)),
        ]
    )
    if scores is not None:
        doc.heading(_("Analytics"))
        doc.paragraph(_("as of %(date)s") % {"date": _when(scores.as_of)}, muted=True)
        doc.key_values(_analytics_pairs(scores))
    doc.heading(_("Contracts"))
    if card.contracts:
        doc.table(
            [_("Number"), _("Subject"), _("Dates"), _("Status")],
            [
                [
                    c.number,
                    c.subject,
                    f"{_when(c.start_on)} – {_when(c.end_on)}",
                    str(c.get_status_display()),
                ]
                for c in card.contracts
            ],
            widths=[2, 4, 3, 2],
        )
    else:
        doc.paragraph(_("No contracts."), muted=True)
    doc.heading(_("Personal details"))
    pairs = [(v.field.label, v.display) for v in card.custom_values if v.display]
    pairs += [
        (
            d.label or str(d.get_kind_display()),
            f"{d.day:02d}.{d.month:02d}" + (f".{d.year}" if d.year else ""),
        )
        for d in card.important_dates
    ]
    if pairs:
        doc.key_values(pairs)
    else:
        doc.paragraph("—", muted=True)
    doc.heading(_("Stakeholders"))
    if not data.map.has_power_point:
        doc.paragraph(_("Red flag: no power point is known."), warning=True)
    _stakeholder_table(doc, data.map.lanes)
    doc.heading(_("Deals"))
    doc.table(
        [_("Deal"), _("Stage"), _("Amount"), _("Probability")],
        [
            [d.title, d.stage.name, money(d.amount, d.currency), f"{d.probability}%"]
            for d in data.deals
        ]
        or [["—", "", "", ""]],
        widths=[4, 3, 2, 1.5],
        align="LLRR",
    )
    doc.heading(_("Orders"))
    doc.table(
        [_("Date"), _("Number"), _("Status"), _("Total")],
        [
            [
                _when(o.ordered_on),
                o.number or str(o.pk),
                str(o.get_status_display()),
                money(o.total, o.currency),
            ]
            for o in data.orders
        ]
        or [["—", "", "", ""]],
        widths=[2, 2, 2, 2],
        align="LLLR",
    )
    doc.heading(_("Open tasks"))
    if data.open_tasks:
        doc.table(
            [_("Due"), _("Task"), _("Assignee")],
            [[_when(t.due_at), t.title, str(t.assignee)] for t in data.open_tasks],
            widths=[2, 5, 2],
        )
    else:
        doc.paragraph(_("No open tasks."), muted=True)
    return doc.output()


@login_required
@require_GET
def show_dossier_pdf(request: AuthedRequest, key_account_id: int) -> HttpResponse:
    data = _dossier(request, key_account_id)
    scores = client_scores(viewer=request.user, client=data.card.client)
    response = HttpResponse(dossier_pdf(data, scores), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="dossier-{data.key_account.pk}.pdf"'
    return response


# --- settings: the decision cycle and its playbook -------------------------------------


@login_required
def cycle_settings(request: AuthedRequest) -> HttpResponse:
    """The decision stages and the playbook of each; administrators edit them."""
    _require_area(request)
    can_manage = can_manage_key_account_settings(request.user)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        if not can_manage:
            raise NotPermitted(action="manage", resource="decision stage")
        op = request.POST.get("op", "")
        try:
            if op == "stage_add":
                decision_stage_create(actor=request.user, name=request.POST.get("name", ""))
            elif op == "stage_rename":
                stage = decision_stage_get(
                    viewer=request.user, stage_id=_int(request.POST.get("stage")) or 0
                )
                decision_stage_update(
                    actor=request.user, stage=stage, name=request.POST.get("name", "")
                )
            elif op == "stage_archive":
                stage = decision_stage_get(
                    viewer=request.user, stage_id=_int(request.POST.get("stage")) or 0
                )
                decision_stage_update(actor=request.user, stage=stage, is_archived=True)
            elif op == "action_add":
                stage = decision_stage_get(
                    viewer=request.user, stage_id=_int(request.POST.get("stage")) or 0
                )
                playbook_action_create(
                    actor=request.user,
                    stage=stage,
                    title=request.POST.get("title", ""),
                    kind=request.POST.get("kind", "meeting"),
                    due_in_days=_int(request.POST.get("due_in_days")) or 0,
                )
            elif op == "action_delete":
                action = playbook_action_get(
                    viewer=request.user, action_id=_int(request.POST.get("action")) or 0
                )
                playbook_action_delete(actor=request.user, action=action)
        except ValidationFailed as error:
            errors = error.fields
        else:
            return redirect("keyaccounts:settings")
    stages = decision_stages(viewer=request.user)
    actions = playbook(viewer=request.user)
    for stage in stages:
        stage.actions = [a for a in actions if a.stage_id == stage.pk]  # type: ignore[attr-defined]
    from lavka.clients.models import Touchpoint

    return render(
        request,
        "web/keyaccounts/settings.html",
        {
            "stages": stages,
            "can_manage": can_manage,
            "errors": errors,
            "kinds": Touchpoint.Kind.choices,
        },
        status=422 if errors else 200,
    )


urlpatterns = [
    path("keyaccounts/", list_key_accounts, name="list"),
    path("keyaccounts/settings/", cycle_settings, name="settings"),
    path("keyaccounts/<int:key_account_id>/", show_key_account, name="show"),
    path("keyaccounts/<int:key_account_id>/edit/", update_key_account, name="update"),
    path("keyaccounts/<int:key_account_id>/stage/", set_decision_stage, name="stage"),
    path("keyaccounts/<int:key_account_id>/stakeholders/", add_stakeholder, name="stakeholder_add"),
    path(
        "keyaccounts/<int:key_account_id>/stakeholders/<int:stakeholder_id>/remove/",
        remove_stakeholder,
        name="stakeholder_remove",
    ),
    path(
        "keyaccounts/<int:key_account_id>/relationships/", add_relationship, name="relationship_add"
    ),
    path(
        "keyaccounts/<int:key_account_id>/relationships/<int:relationship_id>/delete/",
        delete_relationship,
        name="relationship_delete",
    ),
    path("keyaccounts/<int:key_account_id>/plan/", apply_playbook, name="plan_apply"),
    path(
        "keyaccounts/<int:key_account_id>/plan/<int:action_id>/done/",
        complete_influence_action,
        name="action_done",
    ),
    path("keyaccounts/<int:key_account_id>/report/", deal_report, name="report"),
    path("keyaccounts/<int:key_account_id>/report.pdf", deal_report_pdf, name="report_pdf"),
    path("keyaccounts/<int:key_account_id>/dossier/", show_dossier, name="dossier"),
    path("keyaccounts/<int:key_account_id>/dossier.pdf", show_dossier_pdf, name="dossier_pdf"),
]
