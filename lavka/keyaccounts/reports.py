"""The data of the deal status report (Tool 5) and of the key-client dossier: one
page each, gathered here from the records (no numbers typed in) and rendered by the
web as HTML and PDF."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from lavka.clients.models import Task, Touchpoint
from lavka.clients.selectors.blocks import ClientCard, client_card
from lavka.core.errors import NotFound
from lavka.keyaccounts.models import InfluenceAction, KeyAccount, StageChange, Stakeholder
from lavka.keyaccounts.selectors import (
    StakeholderMap,
    influence_plan,
    key_accounts_visible_to,
    open_tasks,
    stage_history,
    stakeholder_map,
)
from lavka.sales.models import SALE_STATUSES, Deal, DealStageChange, Order, Stage
from lavka.sales.selectors.deals import deal_stage_history, deals_visible_to
from lavka.sales.selectors.orders import client_orders


@dataclass
class TimelineEntry:
    at: dt.datetime
    text: str


@dataclass
class DealStatusReport:
    key_account: KeyAccount
    deal: Deal | None
    stage_history: list[StageChange]
    map: StakeholderMap
    open_tasks: list[Task]
    influence: list[InfluenceAction]
    risks: list[str]
    timeline: list[TimelineEntry]
    generated_at: dt.datetime
    weighted_amount: Decimal | None = None

    @property
    def has_power_point(self) -> bool:
        return self.map.has_power_point


def _main_deal(viewer: Any, key_account: KeyAccount, deal_id: int | None) -> Deal | None:
    deals = deals_visible_to(viewer).filter(client_id=key_account.client_id)
    deals = deals.select_related("stage", "owner", "pipeline")
    if deal_id is not None:
        deal = deals.filter(pk=deal_id).first()
        if deal is None:
            raise NotFound(resource="deal", id=deal_id)
        return deal
    # The report is about the biggest open deal, or the latest one.
    return (
        deals.filter(stage__kind=Stage.Kind.OPEN).order_by("-amount", "-id").first()
        or deals.order_by("-created_at", "-id").first()
    )


def report_risks(
    *,
    key_account: KeyAccount,
    map: StakeholderMap,
    deal: Deal | None,
    tasks: list[Task],
    now: dt.datetime,
) -> list[str]:
    """What endangers the deal, worst first, from the data; then the risks typed in."""
    risks = []
    stakeholders = [s for _role, _label, members in map.lanes for s in members]
    if not map.has_power_point:
        risks.append(_("No power point is known: nobody who decides has been found."))
    for s in stakeholders:
        if s.role == Stakeholder.Role.POWER and s.attitude == Stakeholder.Attitude.OPPONENT:
            risks.append(
                _("The power point %(name)s is against us.") % {"name": s.person.full_name}
            )
        elif s.attitude == Stakeholder.Attitude.OPPONENT and s.influence >= 4:
            risks.append(
                _("%(name)s has a strong influence and is against us.")
                % {"name": s.person.full_name}
            )
    if Stakeholder.Role.ENTRY in map.missing_roles:
        risks.append(_("No entry point: nobody on the client's side tells us more."))
    overdue = [t for t in tasks if t.due_at < now]
    if overdue:
        risks.append(_("Overdue next steps: %(count)s.") % {"count": len(overdue)})
    if (
        deal is not None
        and deal.stage.kind == Stage.Kind.OPEN
        and deal.expected_close_on is not None
        and deal.expected_close_on < now.date()
    ):
        risks.append(_("The expected close date has passed."))
    for line in key_account.risks.splitlines():
        if line.strip():
            risks.append(line.strip())
    return risks


def deal_status_report(
    *,
    viewer: Any,
    key_account: KeyAccount,
    deal_id: int | None = None,
    now: dt.datetime | None = None,
) -> DealStatusReport:
    """The report for `deal_id` (a deal of the client; default: its biggest open
    deal) of a key account the viewer may read."""
    if not key_accounts_visible_to(viewer).filter(pk=key_account.pk).exists():
        raise NotFound(resource="key account", id=key_account.pk)
    now = now or timezone.now()
    deal = _main_deal(viewer, key_account, deal_id)
    history = stage_history(viewer=viewer, key_account=key_account)
    the_map = stakeholder_map(key_account=key_account)
    tasks = open_tasks(key_account=key_account)
    influence = influence_plan(key_account=key_account, deal=deal) if deal else []
    timeline = [
        TimelineEntry(
            at=step.changed_at,
            text=(
                _("Decision cycle: %(stage)s") % {"stage": step.to_stage.name}
                + (f" — {step.note}" if step.note else "")
            ),
        )
        for step in history
    ]
    if deal is not None:
        timeline.append(
            TimelineEntry(
                at=deal.created_at, text=_("Deal opened: %(title)s") % {"title": deal.title}
            )
        )
        changes: list[DealStageChange] = deal_stage_history(viewer=viewer, deal=deal)
        timeline += [
            TimelineEntry(
                at=c.changed_at, text=_("Deal stage: %(stage)s") % {"stage": c.to_stage.name}
            )
            for c in changes
            if c.from_stage_id is not None
        ]
    timeline += [
        TimelineEntry(at=a.task.completed_at, text=f"{a.task.title} — {a.effect}")
        for a in influence
        if a.task.completed_at is not None
    ]
    touchpoints = (
        Touchpoint.objects.filter(client_id=key_account.client_id)
        .exclude(kind=Touchpoint.Kind.NOTE)
        .order_by("-occurred_at", "-id")[:10]
    )
    timeline += [
        TimelineEntry(at=t.occurred_at, text=f"{t.get_kind_display()}: {t.subject}".rstrip(": "))
        for t in touchpoints
    ]
    timeline.sort(key=lambda entry: entry.at)
    return DealStatusReport(
        key_account=key_account,
        deal=deal,
        stage_history=history,
        map=the_map,
        open_tasks=tasks,
        influence=influence,
        risks=report_risks(key_account=key_account, map=the_map, deal=deal, tasks=tasks, now=now),
        timeline=timeline[-20:],
        generated_at=now,
        weighted_amount=(deal.amount * deal.probability / 100).quantize(Decimal("0.01"))
        if deal is not None
        else None,
    )


@dataclass
class Dossier:
    key_account: KeyAccount
    card: ClientCard
    map: StakeholderMap
    deals: list[Deal]
    orders: list[Order]
    open_tasks: list[Task]
    generated_at: dt.datetime
    orders_total: dict[str, Decimal] = field(default_factory=dict)


def dossier(*, viewer: Any, key_account: KeyAccount, now: dt.datetime | None = None) -> Dossier:
    """Everything known about a key client, for one page."""
    if not key_accounts_visible_to(viewer).filter(pk=key_account.pk).exists():
        raise NotFound(resource="key account", id=key_account.pk)
    card = client_card(viewer=viewer, client_id=key_account.client_id)
    deals = list(
        deals_visible_to(viewer)
        .filter(client_id=key_account.client_id)
        .select_related("stage")
        .order_by("-created_at", "-id")[:20]
    )
    visible_orders = client_orders(viewer=viewer, client=card.client)
    orders = list(visible_orders[:20])
    # All the client's purchases, not only the 20 listed; what the card counts as revenue.
    totals: dict[str, Decimal] = dict(
        visible_orders.filter(status__in=SALE_STATUSES)
        .order_by("currency")
        .values("currency")
        .annotate(total=Sum("total"))
        .values_list("currency", "total")
    )
    return Dossier(
        key_account=key_account,
        card=card,
        map=stakeholder_map(key_account=key_account),
        deals=deals,
        orders=orders,
        open_tasks=open_tasks(key_account=key_account),
        generated_at=now or timezone.now(),
        orders_total=totals,
    )
