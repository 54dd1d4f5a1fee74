from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import authenticate
from django.db.models import Count
from django.utils import timezone

from lavka.audit.models import AuditEvent
from lavka.clients.models import (
    Address,
    Attachment,
    Client,
    Consent,
    ContactPoint,
    Contract,
    CustomField,
    Employment,
    ImportantDate,
    Person,
    Tag,
    Task,
    Tier,
    TierChange,
    Touchpoint,
)
from lavka.clients.selectors import clients_visible_to
from lavka.demo import data
from lavka.demo.data import DEMO_PASSWORD, SCALE_NOTE, USERS, load_demo, seller_clients
from lavka.identity.models import Team, User
from lavka.identity.roles import DEFAULT_ROLES
from lavka.notifications.models import Notification
from lavka.sales.models import Deal, Order

pytestmark = pytest.mark.django_db

MOSCOW = "Sales Moscow (Продажи Москва)"
ST_PETERSBURG = "Sales St Petersburg (Продажи Санкт-Петербург)"


def delete_generated() -> None:
    """Remove the generated clients with their deals and orders (which protect them)."""
    Order.all_objects.filter(client__notes=SCALE_NOTE).delete()
    Deal.all_objects.filter(client__notes=SCALE_NOTE).delete()
    Client.all_objects.filter(notes=SCALE_NOTE).delete()


def user(username: str) -> User:
    return User.objects.select_related("role", "team").get(username=username)


def test_load_demo_creates_one_user_per_builtin_role_each_in_a_team(demo):
    users = User.objects.select_related("role", "team").order_by("username")
    assert {u.username: (u.role.code, u.team.name) for u in users} == {
        "admin": ("administrator", "Head office (Головной офис)"),
        "anna": ("sales_rep", MOSCOW),
        "ivan": ("sales_rep", MOSCOW),
        "manager": ("sales_manager", MOSCOW),
        "maria": ("marketer", "Marketing (Маркетинг)"),
        "olga": ("analyst", "Analytics (Аналитика)"),
        "pavel": ("sales_rep", ST_PETERSBURG),
        "sergey": ("service_agent", "Service (Сервис)"),
    }
    assert {u.role.code for u in users} == set(DEFAULT_ROLES)


def test_load_demo_puts_every_team_under_the_head_office(demo):
    head = Team.objects.get(name="Head office (Головной офис)")
    assert head.parent is None
    assert sorted(Team.objects.filter(parent=head).values_list("name", flat=True)) == [
        "Analytics (Аналитика)",
        "Marketing (Маркетинг)",
        "Sales Moscow (Продажи Москва)",
        "Sales St Petersburg (Продажи Санкт-Петербург)",
        "Service (Сервис)",
    ]
    assert all(team.path.startswith(head.path) for team in Team.objects.all())


def test_demo_users_log_in_with_the_printed_password(demo):
    result = demo

    assert result["password"] == DEMO_PASSWORD
    assert [login["username"] for login in result["logins"]] == [u.username for u in USERS]
    assert all(authenticate(username=u.username, password=DEMO_PASSWORD) for u in USERS)


def test_demo_clients_are_created_by_their_owners_through_the_service(demo):
    anna = user("anna")
    assert Client.objects.filter(owner=anna).count() == 90
    assert set(Client.objects.filter(owner=anna).values_list("team_id", flat=True)) == {
        anna.team_id
    }
    assert (
        AuditEvent.objects.filter(action="create", actor=anna, content_type__model="client").count()
        == 90
    )
    assert Client.objects.count() == 301  # and one from the demo lead converted into a client


def table_counts() -> dict[str, int]:
    models = [User, Team, Client, AuditEvent, Touchpoint, Notification, Order, Deal]
    models += [Address, ContactPoint, Consent, Contract, Attachment, Person, Employment]
    models += [CustomField, ImportantDate, Task, TierChange, Tag]
    return {model.__name__: model.objects.count() for model in models}


def test_load_demo_a_second_time_creates_nothing(demo):
    counts = table_counts()

    again = load_demo()

    assert set(again["created"].values()) == {0}
    assert table_counts() == counts


def test_load_demo_restores_a_changed_demo_password(demo):
    anna = user("anna")
    anna.set_password("another-password-1")
    anna.save(update_fields=["password"])

    load_demo()

    assert authenticate(username="anna", password=DEMO_PASSWORD) is not None


def test_st_petersburg_rep_cannot_see_a_moscow_reps_client(demo):
    pavel, anna = user("pavel"), user("anna")
    annas_client = Client.objects.filter(owner=anna).first()

    visible = clients_visible_to(pavel)

    assert not visible.filter(pk=annas_client.pk).exists()
    assert set(visible.values_list("team__name", flat=True)) == {ST_PETERSBURG}
    assert visible.count() == 90


def test_moscow_reps_see_their_team_and_the_administrator_sees_everyone(demo):
    annas_client = Client.objects.filter(owner=user("anna")).first()

    assert clients_visible_to(user("ivan")).filter(pk=annas_client.pk).exists()
    # manager 30 + anna 90 + ivan 90 + the converted demo lead's client
    assert clients_visible_to(user("manager")).count() == 211
    assert clients_visible_to(user("admin")).count() == 301


def test_scale_adds_generated_clients_up_to_the_number_asked(demo, monkeypatch):
    monkeypatch.setattr(data, "SCALE_BATCH", 3)
    seen: list[tuple[str, int, int]] = []

    first = load_demo(
        scale=7, progress=lambda stage, done, total: seen.append((stage, done, total))
    )
    again = load_demo(scale=7)
    more = load_demo(scale=10)

    assert [s for s in seen if s[0] == "generated clients"] == [
        ("generated clients", 3, 7),
        ("generated clients", 6, 7),
        ("generated clients", 7, 7),
    ]
    assert (
        first["created"]["generated_clients"],
        again["created"]["generated_clients"],
        more["created"]["generated_clients"],
    ) == (7, 0, 3)
    assert Client.objects.filter(notes=SCALE_NOTE).count() == 10


def test_generated_clients_get_the_default_tier_and_search_text_like_created_ones(demo):
    load_demo(scale=5)

    generated = Client.objects.filter(notes=SCALE_NOTE)
    default_tier = Tier.objects.filter(is_default=True).order_by("order").first()
    created_by_service = Client.objects.exclude(notes=SCALE_NOTE).first()
    assert {c.tier_id for c in generated} == {created_by_service.tier_id}
    assert created_by_service.tier_id == (default_tier.pk if default_tier else None)
    assert all(c.search_text for c in generated)


def test_scale_generates_the_same_clients_on_every_run(demo):
    load_demo(scale=20)
    generated = Client.objects.filter(notes=SCALE_NOTE).order_by("id")
    first_run = list(generated.values_list("name", "email", "owner__username"))
    delete_generated()

    load_demo(scale=20)

    assert list(generated.values_list("name", "email", "owner__username")) == first_run


def test_seller_clients_are_the_same_list_on_every_call():
    pavel = next(spec for spec in USERS if spec.username == "pavel")

    clients = seller_clients(pavel)

    assert clients == seller_clients(pavel)
    assert len({c["name"] for c in clients}) == 90


def test_scale_gives_every_generated_client_exactly_five_touchpoints(demo):
    load_demo(scale=50)

    generated = Client.objects.filter(notes=SCALE_NOTE)
    counts = generated.annotate(n=Count("touchpoints")).values_list("n", flat=True)
    assert generated.count() == 50
    assert sorted(set(counts)) == [5]
    assert Touchpoint.objects.filter(client__in=generated).count() == 250


def test_scale_touchpoints_cover_the_kinds_and_the_last_year(demo):
    load_demo(scale=50)

    touchpoints = Touchpoint.objects.filter(client__notes=SCALE_NOTE)
    year_ago = timezone.now() - dt.timedelta(days=366)
    assert set(touchpoints.values_list("kind", flat=True)) == {
        "call",
        "meeting",
        "email",
        "message",
        "note",
        "visit",
    }
    assert not touchpoints.filter(occurred_at__lt=year_ago).exists()
    assert not touchpoints.filter(occurred_at__gt=timezone.now()).exists()


def test_scale_last_contact_is_the_latest_touchpoint_that_is_not_a_note(demo):
    load_demo(scale=50)

    for client in Client.objects.filter(notes=SCALE_NOTE):
        latest = client.touchpoints.exclude(kind="note").order_by("-occurred_at").first()
        assert client.last_contact_at == (latest.occurred_at if latest else None)
    assert Client.objects.filter(notes=SCALE_NOTE, last_contact_at__isnull=False).exists()


def test_scale_generates_the_same_touchpoints_on_every_run(demo):
    load_demo(scale=50)
    touchpoints = Touchpoint.objects.filter(client__notes=SCALE_NOTE).order_by(
        "client_id", "occurred_at", "id"
    )
    fields = ("client__name", "kind", "channel", "direction", "outcome", "subject")
    first_run = sorted(touchpoints.values_list(*fields))
    delete_generated()

    load_demo(scale=50)

    assert sorted(touchpoints.values_list(*fields)) == first_run
    assert touchpoints.count() == 250


def test_scale_rerun_adds_touchpoints_only_for_the_new_clients(demo, monkeypatch):
    monkeypatch.setattr(data, "SCALE_BATCH", 4)
    load_demo(scale=10)
    before = set(Touchpoint.objects.values_list("id", "client_id"))

    load_demo(scale=10)
    load_demo(scale=12)

    after = set(Touchpoint.objects.values_list("id", "client_id"))
    new_clients = {client_id for _, client_id in after - before}
    assert before < after
    assert len(after - before) == 10
    assert len(new_clients) == 2
    assert Client.objects.filter(notes=SCALE_NOTE).count() == 12
