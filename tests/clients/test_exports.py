"""The export carries the card's four blocks: address parts, contact, commercial terms
and the timeline's last contact and next step."""

from __future__ import annotations

import csv
from decimal import Decimal

from lavka.clients.exports import clients_write
from lavka.clients.services import client_update
from lavka.clients.services.blocks import address_add
from tests.factories import ClientFactory


def test_export_has_the_primary_address_and_the_commercial_terms(org, tmp_path):
    client = ClientFactory(owner=org.rep, name="Ромашка", email="info@romashka.example")
    client_update(
        actor=org.rep,
        client=client,
        payment_terms_days=30,
        credit_limit=Decimal("500000"),
        bank_bic="044525225",
        preferred_channel="email",
    )
    address_add(
        actor=org.rep,
        client=client,
        kind="postal",
        country="RU",
        region="Татарстан",
        city="Казань",
        postcode="420111",
        street="ул. Баумана, 1",
    )
    address_add(actor=org.rep, client=client, kind="delivery", city="Тверь", street="Склад 5")

    written = clients_write(viewer=org.rep, path=tmp_path / "c.csv")

    assert written == 1
    with (tmp_path / "c.csv").open(encoding="utf-8-sig") as fh:
        row = next(csv.DictReader(fh))
    assert (row["city"], row["region"], row["postcode"], row["country"], row["street"]) == (
        "Казань",
        "Татарстан",
        "420111",
        "RU",
        "ул. Баумана, 1",
    )
    assert (row["payment_terms_days"], row["credit_limit"], row["bank_bic"]) == (
        "30",
        "500000.00",
        "044525225",
    )
    assert row["preferred_channel"] == "email"
    assert row["last_contact_at"] == "" and row["next_step_title"] == ""
