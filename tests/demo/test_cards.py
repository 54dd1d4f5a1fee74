"""The demo clients' cards: all four blocks, personal details, contact persons, tiers,
tags, a year of touchpoints and open tasks, made through the services by the owners;
tax and bank identifiers with valid check digits; the same on every run."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Max, Q
from django.utils import timezone
from stdnum import iban
from stdnum.eu import vat as eu_vat
from stdnum.ru import inn as ru_inn
from stdnum.ru import ogrn as ru_ogrn

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
    Task,
    TierChange,
    Touchpoint,
)
from lavka.clients.selectors.blocks import important_date_days_left
from lavka.clients.services.personal import custom_values_clean
from lavka.demo import names, taxids
from lavka.demo.data import SCALE_NOTE, SEED, USERS, load_demo, seller_clients
from lavka.demo.details import client_details
from lavka.keyaccounts.models import KeyAccount
from lavka.leads.models import Lead
from lavka.notifications.models import Notification

pytestmark = pytest.mark.django_db

RUSSIAN_CITIES = {city for city, (country, *_rest) in names.PLACES.items() if country == "RU"}


def demo_clients():
    """The sellers' clients (not the one the demo made from a lead, nor generated ones)."""
    return Client.objects.exclude(notes=SCALE_NOTE).exclude(
        pk__in=Lead.objects.filter(client__isnull=False).values("client_id")
    )


def organisations():
    return demo_clients().filter(kind=Client.Kind.ORGANISATION)


def russian(clients):
    return clients.filter(city__in=RUSSIAN_CITIES)


def test_every_demo_client_has_one_to_three_typed_addresses_in_its_own_country(demo):
    clients = demo_clients().annotate(n=Count("addresses"))

    assert clients.count() == 300
    assert set(clients.values_list("n", flat=True)) == {1, 2, 3}
    addresses = Address.objects.filter(client__in=demo_clients())
    assert set(addresses.values_list("kind", flat=True)) == {
        "legal",
        "postal",
        "delivery",
        "office",
    }
    assert not addresses.filter(Q(city="") | Q(street="") | Q(postcode="") | Q(region="")).exists()
    # Russian clients have Russian addresses with six-digit postcodes; foreign ones theirs.
    for client in demo_clients().prefetch_related("addresses"):
        primary = [a for a in client.addresses.all() if a.is_primary]
        assert len(primary) == 1 and primary[0].city == client.city
        for address in client.addresses.all():
            assert address.country == names.PLACES[client.city][0]
            if address.country == "RU":
                assert len(address.postcode) == 6 and address.postcode.isdigit()
    assert set(addresses.values_list("country", flat=True)) == {"RU", "FI", "DE", "GB", "EE"}


def test_every_demo_client_has_a_phone_and_most_an_email_messengers_and_a_channel(demo):
    clients = demo_clients()
    phones = ContactPoint.objects.filter(client__in=clients, kind="phone")
    emails = ContactPoint.objects.filter(client__in=clients, kind="email")

    assert phones.values("client").distinct().count() == 300
    assert all(
        value.startswith("+") and value[1:].isdigit()
        for value in phones.values_list("value", flat=True)
    )
    assert emails.values("client").distinct().count() > 250
    assert ContactPoint.objects.filter(client__in=clients, kind="messenger").count() > 60
    assert emails.values("client").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert clients.exclude(preferred_channel="").count() == 300
    assert organisations().exclude(website="").count() > 0.6 * organisations().count()


def test_consents_are_given_for_some_channels_with_a_date_a_source_and_a_history(demo):
    consents = Consent.objects.filter(client__in=demo_clients())

    assert consents.values("client").distinct().count() > 150
    assert set(consents.values_list("channel", flat=True)) >= {"email", "sms", "messenger"}
    assert not consents.filter(source="").exists()
    assert not consents.filter(at__gt=timezone.now()).exists()
    # Given, then withdrawn: the latest record of the channel says no.
    withdrawn = consents.filter(granted=False).select_related("client").first()
    history = list(
        Consent.objects.filter(client=withdrawn.client, channel=withdrawn.channel).order_by("at")
    )
    assert [c.granted for c in history] == [True, False]
    assert history[0].at < history[1].at


def test_organisations_have_a_commercial_block_with_valid_russian_tax_ids_and_accounts(demo):
    russian_organisations = russian(organisations())

    assert russian_organisations.count() > 100
    for client in russian_organisations:
        assert client.industry and client.size and client.annual_revenue > 0
        assert (
            client.currency == "RUB" and client.price_list and client.payment_terms_days is not None
        )
        assert len(client.inn) == 10 and ru_inn.is_valid(client.inn), client.inn
        assert client.kpp[:4] == client.inn[:4] and len(client.kpp) == 9
        assert len(client.ogrn) == 13 and ru_ogrn.is_valid(client.ogrn), client.ogrn
        assert client.ogrn[3:5] == client.inn[:2]  # registered in the region of its tax office
        assert client.legal_name.endswith(client.name.partition(" ")[2])
        assert client.bank_bic in {bank.bic for bank in taxids.RUSSIAN_BANKS}
        assert account_key_is_valid(client.bank_bic[-3:], client.bank_account)
        assert account_key_is_valid("0" + client.bank_bic[4:6], client.bank_correspondent_account)
    assert russian_organisations.filter(credit_limit__gt=0).exists()
    assert russian_organisations.filter(discount_percent__gt=0).exists()
    # No two demo clients share an INN.
    inns = list(demo_clients().exclude(inn="").values_list("inn", flat=True))
    assert len(inns) == len(set(inns))


def test_private_persons_have_a_twelve_digit_inn_when_they_have_one(demo):
    persons = russian(demo_clients().filter(kind=Client.Kind.PERSON))

    with_inn = persons.exclude(inn="")
    assert with_inn.count() > 0.4 * persons.count()
    assert all(
        len(inn) == 12 and ru_inn.is_valid(inn) for inn in with_inn.values_list("inn", flat=True)
    )
    assert not persons.exclude(kpp="", ogrn="").exists()


def test_foreign_organisations_have_their_currency_an_eu_vat_number_and_an_iban(demo):
    foreign = organisations().exclude(city__in=RUSSIAN_CITIES)

    assert foreign.count() > 20
    for client in foreign:
        country = names.PLACES[client.city][0]
        assert client.currency == names.CURRENCY_BY_COUNTRY[country]
        assert iban.is_valid(client.bank_account) and client.bank_account[:2] == country
        assert client.inn == ""
        if country == "GB":
            assert client.vat == ""  # outside the EU's VAT system
        else:
            assert client.vat.startswith(country) and eu_vat.is_valid(client.vat), client.vat
    assert foreign.exclude(vat="").count() > 10


def test_most_organisations_have_contracts_and_a_few_a_signed_copy(demo):
    with_contracts = organisations().annotate(n=Count("contracts")).filter(n__gt=0)

    assert with_contracts.count() > 0.75 * organisations().count()
    assert set(with_contracts.values_list("n", flat=True)) == {1, 2, 3}
    today = timezone.localdate()
    contracts = Contract.objects.filter(client__in=organisations())
    assert set(contracts.values_list("status", flat=True)) == {
        "draft",
        "active",
        "expired",
        "terminated",
    }
    for contract in contracts.select_related("client"):
        assert contract.number and contract.subject and contract.amount > 0
        assert contract.currency == contract.client.currency
        assert contract.start_on < contract.end_on
        if contract.status == "active":
            assert contract.start_on <= today <= contract.end_on
        if contract.status in ("expired", "terminated"):
            assert contract.end_on < today
        assert (contract.renewal_notice_days is None) == (contract.renewal == "none")
    signed = Attachment.objects.filter(is_signed_copy=True, client__in=organisations())
    assert 1 <= signed.count() <= 10
    assert sum(signed.values_list("size", flat=True)) < 300_000
    for attachment in signed:
        assert attachment.contract.status == "active"
        assert attachment.content_type == "application/pdf"
        with attachment.file.open("rb") as stored:
            assert stored.read(5) == b"%PDF-"


def test_the_administrator_defines_personal_details_and_many_clients_have_them(demo):
    fields = CustomField.objects.filter(entity="client")

    assert set(fields.values_list("key", flat=True)) == {
        "car",
        "hobby",
        "pet_name",
        "favourite_drink",
    }
    created = AuditEvent.objects.filter(
        action="create", content_type=ContentType.objects.get_for_model(CustomField)
    )
    assert set(created.values_list("actor__username", flat=True)) == {"admin"}
    with_values = demo_clients().exclude(custom={})
    assert with_values.count() > 120
    for client in with_values:
        assert custom_values_clean(entity="client", values=client.custom) == client.custom
    assert demo_clients().filter(custom__has_key="pet_name").exists()


def test_important_dates_of_clients_and_persons_some_in_the_next_two_weeks_reminded(demo):
    dates = ImportantDate.objects.filter(Q(client__in=demo_clients()) | Q(person__isnull=False))

    assert set(dates.values_list("kind", flat=True)) == {"birthday", "pet_birthday", "anniversary"}
    assert dates.filter(person__isnull=False, kind="birthday").count() > 50
    assert dates.filter(client__kind=Client.Kind.ORGANISATION, kind="anniversary").exists()
    coming = [d for d in dates if 0 < important_date_days_left(d) <= 14]
    assert len(coming) >= 10
    # The reminders the daily job would send this morning have been sent to the owners.
    reminded = [d for d in coming if important_date_days_left(d) <= d.remind_days_before]
    assert reminded
    assert Notification.objects.filter(
        recipient__username__in=["manager", "anna", "ivan", "pavel"]
    ).count() >= len(reminded)


def test_organisations_have_one_to_three_contact_persons_some_at_two_organisations(demo):
    # Key accounts have the people of their stakeholder map besides.
    ordinary = organisations().exclude(pk__in=KeyAccount.objects.values("client_id"))
    counts = ordinary.annotate(
        n=Count("employments", filter=~Q(employments__job_title__in=board_titles()))
    ).values_list("n", flat=True)

    assert set(counts) == {1, 2, 3}
    jobs = Employment.objects.filter(organisation__in=ordinary)
    assert not jobs.filter(Q(job_title="") | Q(role="")).exists()
    at_two = Person.objects.annotate(n=Count("employments")).filter(n=2)
    assert at_two.count() >= 2
    for person in at_two:
        organisations_of = {
            e.organisation for e in person.employments.select_related("organisation")
        }
        parent, child = sorted(organisations_of, key=lambda c: c.parent_id is not None)
        assert child.parent_id == parent.pk


def test_a_few_parent_and_subsidiary_pairs_and_tiers_with_a_history(demo):
    subsidiaries = demo_clients().filter(parent__isnull=False)

    assert 3 <= subsidiaries.count() <= 10
    assert all(
        c.kind == c.parent.kind == "organisation" for c in subsidiaries.select_related("parent")
    )
    tiers = dict(demo_clients().values_list("tier__code").annotate(n=Count("id")))
    assert set(tiers) == {"vip", "affiliated", "mass"}
    assert tiers["mass"] > tiers["affiliated"] > tiers["vip"] > 0
    moved = demo_clients().annotate(n=Count("tier_changes")).filter(n=2)
    assert moved.count() > 15
    client = moved.first()
    first, second = TierChange.objects.filter(client=client).order_by("changed_at")
    assert second.from_tier_id == first.to_tier_id and second.to_tier_id == client.tier_id
    assert second.reason and first.changed_at < second.changed_at < timezone.now()
    assert demo_clients().filter(tags__isnull=False).distinct().count() > 150


def test_every_demo_client_has_a_year_of_touchpoints_and_some_open_tasks(demo):
    clients = demo_clients()
    touchpoints = Touchpoint.objects.filter(client__in=clients)
    year_ago = timezone.now() - dt.timedelta(days=366)

    assert set(clients.annotate(n=Count("touchpoints")).values_list("n", flat=True)) >= {3, 14}
    assert not clients.annotate(n=Count("touchpoints")).filter(n=0).exists()
    assert not touchpoints.filter(
        Q(occurred_at__lt=year_ago) | Q(occurred_at__gt=timezone.now())
    ).exists()
    assert touchpoints.filter(person__isnull=False).exists()
    vip = (
        touchpoints.filter(client__tier__code="vip").count()
        / clients.filter(tier__code="vip").count()
    )
    mass = (
        touchpoints.filter(client__tier__code="mass").count()
        / clients.filter(tier__code="mass").count()
    )
    assert vip > 2 * mass
    latest = clients.annotate(
        at=Max("touchpoints__occurred_at", filter=~Q(touchpoints__kind="note"))
    )
    for client in latest:
        assert client.last_contact_at == client.at
    tasks = Task.objects.filter(client__in=clients, completed_at__isnull=True)
    assert 50 < tasks.count() < 150
    assert tasks.filter(due_at__lt=timezone.now()).exists()  # some overdue
    assert (
        clients.filter(next_step_at__isnull=False).count()
        == tasks.values("client").distinct().count()
    )


def test_the_blocks_are_recorded_in_the_history_by_the_owner(demo):
    anna = next(spec for spec in USERS if spec.username == "anna")
    client = Client.objects.get(owner__username="anna", name=seller_clients(anna)[0]["name"])

    events = AuditEvent.objects.filter(content_type__model="client", object_id=str(client.pk))
    assert set(events.values_list("actor__username", flat=True)) == {"anna"}
    changed = {key for changes in events.values_list("changes", flat=True) for key in changes}
    assert {"addresses", "name", "inn"} <= changed


def test_a_clients_card_is_drawn_the_same_on_every_run():
    pavel = next(spec for spec in USERS if spec.username == "pavel")
    fields = seller_clients(pavel)[5]
    today = dt.date(2026, 3, 1)

    def draw():
        return client_details(random.Random(f"{SEED}:pavel:card:5"), fields=fields, today=today)

    assert draw() == draw()
    assert draw().fields["currency"] in {"RUB", "EUR", "GBP"}


def test_generated_clients_get_a_valid_unique_inn_and_an_address(demo):
    load_demo(scale=40)

    generated = Client.objects.filter(notes=SCALE_NOTE)
    assert Address.objects.filter(client__in=generated, is_primary=True).count() == 40
    russian_generated = generated.filter(city__in=RUSSIAN_CITIES)
    inns = list(russian_generated.values_list("inn", flat=True))
    assert len(inns) == russian_generated.count() > 0 and len(set(inns)) == len(inns)
    assert all(ru_inn.is_valid(inn) for inn in inns)
    assert not generated.exclude(city__in=RUSSIAN_CITIES).exclude(inn="").exists()
    demo_inns = set(demo_clients().exclude(inn="").values_list("inn", flat=True))
    assert not demo_inns & set(inns)
    for client in generated.prefetch_related("addresses"):
        (address,) = client.addresses.all()
        assert address.city == client.city and address.kind == (
            "legal" if client.kind == "organisation" else "postal"
        )


def account_key_is_valid(prefix: str, account: str) -> bool:
    """The Bank of Russia's key of a 20-digit account at a bank: weights 7, 1, 3 over the
    BIC's three digits and the account; the sum ends in 0."""
    if len(prefix) != 3 or len(account) != 20:
        return False
    weights = ([7, 1, 3] * 8)[:23]
    return sum(int(d) * w for d, w in zip(prefix + account, weights, strict=True)) % 10 == 0


def board_titles() -> list[str]:
    return list(names.BOARD_TITLE)


def test_the_demo_bank_accounts_check_key_matches_a_known_account():
    # Sberbank's correspondent account, printed on its invoices.
    assert account_key_is_valid("0" + "25", "30101810400000000225")
    assert not account_key_is_valid("0" + "25", "30101810400000000226")
