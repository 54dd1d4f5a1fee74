"""Demo key accounts: three organisation clients of the demo sellers made key
accounts, each with people on the client's side, a full stakeholder map (entry,
dissatisfaction and power points), relationships that make entry chains from the
seller's colleagues to the power point, a stage of the decision cycle with its
history, and the influence plan planned for the client's open deal (one action done,
with its effect).

Called by the demo loader after users, clients and deals exist. Idempotent: nothing is
created when any key account exists. Everything goes through the services, as a
seller would do it."""

from __future__ import annotations

import random
from typing import Any

from django.db import transaction

from lavka.clients.models import Client
from lavka.clients.services.blocks import person_create
from lavka.keyaccounts.models import DecisionStage, KeyAccount
from lavka.keyaccounts.services import (
    influence_action_complete,
    influence_plan_apply,
    key_account_create,
    key_account_set_stage,
    key_account_update,
    relationship_create,
    stakeholder_add,
)
from lavka.sales.models import Deal, Stage

# (first name, last name, job title) of the people on the client's side: the entry
# point, the dissatisfaction point, the power point, and a go-between who knows the
# power point.
PEOPLE = [
    [
        ("Ирина", "Кузнецова", "Офис-менеджер"),
        ("Олег", "Морозов", "Руководитель склада"),
        ("Виктор", "Лебедев", "Генеральный директор"),
        ("Татьяна", "Новикова", "Финансовый директор"),
    ],
    [
        ("Светлана", "Павлова", "Менеджер по закупкам"),
        ("Артём", "Соколов", "Начальник производства"),
        ("Андрей", "Волков", "Коммерческий директор"),
        ("Юлия", "Зайцева", "Помощник директора"),
    ],
    [
        ("Наталья", "Егорова", "Администратор"),
        ("Денис", "Фёдоров", "Технический директор"),
        ("Михаил", "Орлов", "Владелец"),
        ("Екатерина", "Белова", "Главный бухгалтер"),
    ],
]
PAINS = [
    ("Поставки опаздывают на 3–5 дней", "Доставка на следующий день со своего склада"),
    ("Нет единого поставщика, много счетов", "Один договор и ежемесячный сводный счёт"),
    ("Поставщик не даёт отсрочку платежа", "Отсрочка 30 дней после первого квартала"),
]
RISKS = [
    "Конкурент предлагает скидку 10 %\nБюджет утверждают только в декабре",
    "Директор сомневается, что мы справимся с объёмом",
    "Действующий договор с конкурентом до конца квартала",
]
EFFECTS = [
    "Встретились с офис-менеджером: решение принимает гендиректор, бюджет в декабре",
    "Созвонились: руководитель склада готов представить нас директору",
    "Отправили примеры решений; администратор передала их владельцу",
]


@transaction.atomic
def keyaccounts_demo_load(*, users: dict[str, Any], rng: random.Random) -> int:
    """Make up to three demo organisation clients key accounts of their owners, with
    full stakeholder maps, relationship chains and influence plans. Returns the number
    of key accounts created (0 when any exists already)."""
    if KeyAccount.objects.exists():
        return 0
    staff = [u for u in users.values() if u.is_active]
    owners = {u.pk: u for u in staff}
    clients = list(
        Client.objects.filter(
            owner_id__in=list(owners), kind=Client.Kind.ORGANISATION, deleted_at__isnull=True
        )
        .order_by("owner_id", "id")
        .distinct()
    )
    chosen: list[Client] = []
    seen_owners: set[int] = set()
    for client in clients:  # one client of each of three sellers
        if client.owner_id not in seen_owners:
            seen_owners.add(client.owner_id)
            chosen.append(client)
        if len(chosen) == 3:
            break
    stages = list(DecisionStage.objects.filter(is_archived=False).order_by("order", "id"))
    if not stages:  # the migration's default cycle was emptied (e.g. a test's flush)
        stages = _default_cycle_create(users["admin"])
    created = 0
    for index, client in enumerate(chosen):
        owner = owners[client.owner_id]
        colleagues = [u for u in staff if u.pk != owner.pk and u.team_id == owner.team_id]
        colleague = colleagues[0] if colleagues else next(u for u in staff if u.pk != owner.pk)
        account = key_account_create(actor=owner, client=client)
        entry, unhappy, power, between = (
            person_create(
                actor=owner,
                first_name=first,
                last_name=last,
                organisation=client,
                job_title=title,
            )
            for first, last, title in PEOPLE[index]
        )
        pain, help_ = PAINS[index]
        stakeholder_add(
            actor=owner,
            key_account=account,
            person=entry,
            role="entry",
            influence=2,
            attitude="supporter",
            notes="Охотно рассказывает о планах компании",
        )
        stakeholder_add(
            actor=owner,
            key_account=account,
            person=unhappy,
            role="dissatisfaction",
            influence=3,
            attitude="neutral",
            pain=pain,
            help=help_,
        )
        stakeholder_add(
            actor=owner,
            key_account=account,
            person=power,
            role="power",
            influence=5,
            attitude=rng.choice(["neutral", "opponent", "supporter"]),
        )
        # Two ways in: the seller's colleague through a go-between (strong), and the
        # seller through the entry point and the unhappy one (longer, weaker).
        relationship_create(
            actor=owner, from_user=colleague, to_person=between, kind="worked_together", strength=5
        )
        relationship_create(
            actor=owner, from_person=between, to_person=power, kind="reports_to", strength=4
        )
        relationship_create(actor=owner, from_user=owner, to_person=entry, strength=3)
        relationship_create(
            actor=owner, from_person=entry, to_person=unhappy, kind="worked_together", strength=3
        )
        relationship_create(
            actor=owner, from_person=unhappy, to_person=power, kind="reports_to", strength=2
        )
        for stage in stages[1 : 2 + index]:
            key_account_set_stage(
                actor=owner, key_account=account, stage=stage, note=rng.choice(EFFECTS)[:120]
            )
        key_account_update(actor=owner, key_account=account, risks=RISKS[index])
        deal = (
            Deal.objects.filter(client=client, stage__kind=Stage.Kind.OPEN)
            .order_by("-amount", "id")
            .first()
        )
        actions = influence_plan_apply(actor=owner, key_account=account, deal=deal)
        if actions:
            influence_action_complete(actor=owner, action=actions[0], effect=EFFECTS[index])
        created += 1
    return created


def _default_cycle_create(admin: Any) -> list[DecisionStage]:
    """The migration's default decision cycle and playbook, through the services, in
    the server's language."""
    from importlib import import_module

    from django.conf import settings

    from lavka.keyaccounts.services import decision_stage_create, playbook_action_create

    template = import_module("lavka.keyaccounts.migrations.0002_default_decision_cycle").STAGES
    russian = str(settings.LANGUAGE_CODE).lower().startswith("ru")
    stages = []
    for en, ru, actions in template:
        stage = decision_stage_create(actor=admin, name=ru if russian else en)
        for a_en, a_ru, kind, days in actions:
            playbook_action_create(
                actor=admin,
                stage=stage,
                title=a_ru if russian else a_en,
                kind=kind,
                due_in_days=days,
            )
        stages.append(stage)
    return stages
