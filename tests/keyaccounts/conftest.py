"""Fixtures of the key-account tests: a client of the rep with four people, made a
key account, and an open deal."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from lavka.clients.services.blocks import person_create
from lavka.keyaccounts.models import DecisionStage
from lavka.keyaccounts.services import key_account_create
from lavka.sales.services import deal_create
from tests.factories import ClientFactory


@pytest.fixture
def stages(db):
    """The default decision cycle the migration writes, in order."""
    return list(DecisionStage.objects.order_by("order", "id"))


@pytest.fixture
def romashka(org, stages):
    """Romashka LLC, the rep's client, with its people, as a key account of the rep,
    and an open deal of 1 200 000 RUB at 40%."""
    client = ClientFactory(owner=org.rep, name="Romashka LLC", currency="RUB")

    def person(first, last, title):
        return person_create(
            actor=org.rep, first_name=first, last_name=last, organisation=client, job_title=title
        )

    people = SimpleNamespace(
        anna=person("Anna", "Petrova", "Office manager"),
        boris=person("Boris", "Ivanov", "Head of logistics"),
        vera=person("Vera", "Smirnova", "CEO"),
        gleb=person("Gleb", "Orlov", "CFO"),
    )
    account = key_account_create(actor=org.rep, client=client)
    deal = deal_create(
        actor=org.rep, client=client, title="Supply 2027", amount="1200000", probability=40
    )
    return SimpleNamespace(client=client, people=people, account=account, deal=deal)
