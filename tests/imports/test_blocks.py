"""Importing the address, the contact person and the birthday of each row."""

from __future__ import annotations

import pytest

from lavka.clients.exports import clients_write
from lavka.clients.models import (
    Address,
    Client,
    ContactPoint,
    Employment,
    ImportantDate,
    Person,
)
from lavka.clients.services.blocks import address_add, important_date_add, person_create
from lavka.imports.cleaning import date_parsed, name_split
from lavka.imports.models import ImportRowError
from lavka.imports.services import import_run_in_process, import_upload
from tests.factories import ClientFactory

HEADER = (
    "Внешний ID;Название;Тип;Email;ИНН;Страна;Регион;Город;Индекс;Адрес;Тип адреса;"
    "Контактное лицо;Должность;Email контакта;Телефон контакта;День рождения"
)
ROWS = [
    "A-1;ООО Ромашка;организация;info@romashka.ru;7707083893;Россия;Московская область;"
    "Химки;141400;ул. Ленина, 1;;Иванов Иван Петрович;Директор;ivanov@romashka.ru;"
    "8 (495) 123-45-67;17.05.1980",
    "A-2;Петрова Анна;физлицо;anna@example.ru;;RU;;Тверь;170000;пр. Мира, 5;почтовый;;;;;"
    "1985-03-08",
]
FILE = "\n".join([HEADER, *ROWS]) + "\n"


def upload(actor, tmp_path, text, name="clients.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return import_upload(actor=actor, name=name, source=path)


def run_import(actor, tmp_path, text, **kwargs):
    run = upload(actor, tmp_path, text)
    result = import_run_in_process(actor=actor, run=run, **kwargs)
    run.refresh_from_db()
    return run, result["counts"]


def errors(run):
    return list(
        ImportRowError.objects.filter(run=run)
        .order_by("row", "id")
        .values_list("row", "column", "value", "reason")
    )


def blocks_snapshot():
    return {
        "clients": sorted(Client.objects.values_list("name", "version", "city")),
        "addresses": sorted(
            Address.objects.values_list(
                "client__name", "kind", "country", "region", "city", "postcode", "street"
            )
        ),
        "people": sorted(
            Person.objects.values_list(
                "first_name", "middle_name", "last_name", "email", "phone", "version"
            )
        ),
        "employments": sorted(
            Employment.objects.values_list(
                "person__last_name", "organisation__name", "job_title", "is_primary"
            )
        ),
        "dates": sorted(
            ImportantDate.objects.values_list(
                "client__name", "person__last_name", "kind", "month", "day", "year"
            ),
            key=str,
        ),
        "points": ContactPoint.objects.count(),
    }


def test_a_row_creates_the_clients_address_contact_person_and_birthday(org, tmp_path):
    run, counts = run_import(org.rep, tmp_path, FILE)

    assert (counts["created"], counts["rejected"]) == (2, 0), errors(run)
    romashka = Client.objects.get(external_id="A-1")
    anna = Client.objects.get(external_id="A-2")
    assert list(
        romashka.addresses.values_list(
            "kind", "country", "region", "city", "postcode", "street", "is_primary"
        )
    ) == [("legal", "RU", "Московская область", "Химки", "141400", "ул. Ленина, 1", True)]
    assert list(anna.addresses.values_list("kind", "city", "postcode", "is_primary")) == [
        ("postal", "Тверь", "170000", True)
    ]
    employment = Employment.objects.select_related("person").get(organisation=romashka)
    person = employment.person
    assert (person.last_name, person.first_name, person.middle_name) == (
        "Иванов",
        "Иван",
        "Петрович",
    )
    assert (person.email, person.phone, person.owner) == (
        "ivanov@romashka.ru",
        "+74951234567",
        org.rep,
    )
    assert (employment.job_title, employment.is_primary) == ("Директор", True)
    assert set(person.contact_points.values_list("kind", "value")) == {
        ("email", "ivanov@romashka.ru"),
        ("phone", "+74951234567"),
    }
    assert "иванов" in person.search_text
    # A private person's birthday is the client's; an organisation row's, its contact's.
    assert list(anna.important_dates.values_list("kind", "day", "month", "year")) == [
        ("birthday", 8, 3, 1985)
    ]
    assert list(person.important_dates.values_list("kind", "day", "month", "year")) == [
        ("birthday", 17, 5, 1980)
    ]


def test_importing_the_same_file_again_adds_no_address_person_or_date(org, tmp_path):
    run_import(org.rep, tmp_path, FILE)
    before = blocks_snapshot()

    _run, counts = run_import(org.rep, tmp_path, FILE)

    assert counts == {"created": 0, "updated": 0, "unchanged": 2, "duplicates": 0, "rejected": 0}
    assert blocks_snapshot() == before


@pytest.mark.parametrize(
    ("key_header", "key_value"),
    [("Внешний ID", "A-1"), ("Email", "info@romashka.ru"), ("ИНН", "7707083893")],
)
def test_a_changed_row_updates_the_blocks_in_place_whichever_key_matches_it(
    org, tmp_path, key_header, key_value
):
    run_import(org.rep, tmp_path, FILE)
    romashka = Client.objects.get(external_id="A-1")
    text = (
        f"{key_header};Название;Город;Адрес;Контактное лицо;Должность;Телефон контакта;"
        "День рождения\n"
        f"{key_value};ООО Ромашка;Химки;ул. Ленина, 2;Иванов Иван Петрович;"
        "Генеральный директор;+7 916 000-11-22;18.05.1980\n"
    )

    run, counts = run_import(org.rep, tmp_path, text)

    assert (counts["updated"], counts["created"]) == (1, 0), errors(run)
    romashka.refresh_from_db()
    assert romashka.version == 2
    assert list(romashka.addresses.values_list("street", "postcode")) == [
        ("ул. Ленина, 2", "141400")
    ]
    employment = Employment.objects.select_related("person").get(organisation=romashka)
    assert employment.job_title == "Генеральный директор"
    assert (employment.person.phone, employment.person.email, employment.person.version) == (
        "+79160001122",
        "ivanov@romashka.ru",
        2,
    )
    assert set(employment.person.contact_points.values_list("kind", "value")) == {
        ("email", "ivanov@romashka.ru"),
        ("phone", "+79160001122"),
    }
    assert Person.objects.count() == 1
    assert list(
        ImportantDate.objects.filter(person=employment.person).values_list("day", "month", "year")
    ) == [(18, 5, 1980)]


def test_a_typed_address_is_added_beside_the_main_one_and_keeps_the_clients_city(org, tmp_path):
    run_import(org.rep, tmp_path, FILE)
    text = (
        "Внешний ID;Название;Город;Адрес;Тип адреса\nA-1;ООО Ромашка;Москва;Складская, 7;доставка\n"
    )

    run, counts = run_import(org.rep, tmp_path, text)

    assert counts["updated"] == 1, errors(run)
    romashka = Client.objects.get(external_id="A-1")
    assert list(romashka.addresses.values_list("kind", "city", "street", "is_primary")) == [
        ("legal", "Химки", "ул. Ленина, 1", True),
        ("delivery", "Москва", "Складская, 7", False),
    ]
    assert romashka.city == "Химки"
    run, counts = run_import(org.rep, tmp_path, text)
    assert counts["unchanged"] == 1
    assert romashka.addresses.count() == 2


def test_a_contact_already_in_the_base_is_linked_not_created_twice(org, tmp_path):
    elsewhere = ClientFactory(owner=org.rep, name="Лютик")
    known = person_create(
        actor=org.rep, first_name="Иван", last_name="Иванов", email="ivanov@romashka.ru"
    )
    Employment.objects.create(person=known, organisation=elsewhere)

    run, counts = run_import(org.rep, tmp_path, FILE)

    assert counts["created"] == 2, errors(run)
    assert Person.objects.count() == 1
    assert sorted(known.employments.values_list("organisation__name", flat=True)) == [
        "Лютик",
        "ООО Ромашка",
    ]


def test_bad_dates_contacts_and_addresses_are_rejected_with_the_column_and_reason(org, tmp_path):
    text = (
        "Название;Тип;Страна;Адрес;Тип адреса;Контактное лицо;Email контакта;"
        "Телефон контакта;День рождения\n"
        "Альфа;организация;;;;Иванов Иван;ivanov@bad;;\n"
        "Бета;организация;;;;Петров Пётр;;12345;\n"
        "Гамма;физлицо;;;;;;;31.02.1990\n"
        "Дельта;физлицо;;;;;;;03/04/1990\n"
        "Эпсилон;организация;Narnia;ул. Ленина, 1;;;;;\n"
        "Дзета;организация;;ул. Ленина, 1;дача;;;;\n"
        "Эта;физлицо;;;;Сидоров Сидор;;;\n"
        "Тета;организация;;;;;;;01.01.1970\n"
        "Йота;организация;;;;;iota@example.ru;;\n"
    )

    run, counts = run_import(org.rep, tmp_path, text)

    assert (counts["rejected"], counts["created"]) == (9, 0)
    assert errors(run) == [
        (2, "Email контакта", "ivanov@bad", "“ivanov@bad” is not a valid email address."),
        (3, "Телефон контакта", "12345", "“12345” is not a valid phone number."),
        (
            4,
            "День рождения",
            "31.02.1990",
            "“31.02.1990” is not a date: write it as DD.MM.YYYY or YYYY-MM-DD.",
        ),
        (
            5,
            "День рождения",
            "03/04/1990",
            "“03/04/1990” is not a date: write it as DD.MM.YYYY or YYYY-MM-DD.",
        ),
        (6, "Страна", "Narnia", "Use a two-letter country code (ISO 3166), e.g. RU or DE."),
        (7, "Тип адреса", "дача", "Choose legal, postal, delivery or office."),
        (8, "Контактное лицо", "Сидоров Сидор", "Contact persons belong to organisations."),
        (
            9,
            "День рождения",
            "01.01.1970",
            "An organisation has no birthday: give the contact person whose birthday it is.",
        ),
        (10, "Контактное лицо", "", "Enter the contact person's name."),
    ]
    assert (Address.objects.count(), Person.objects.count(), ImportantDate.objects.count()) == (
        0,
        0,
        0,
    )


def test_the_reasons_are_in_the_users_language(org, tmp_path):
    from django.utils import translation

    text = "Название;Тип;Контактное лицо\nЭта;физлицо;Сидоров Сидор\n"
    with translation.override("ru"):
        run, counts = run_import(org.rep, tmp_path, text)

    assert counts["rejected"] == 1
    assert errors(run) == [
        (2, "Контактное лицо", "Сидоров Сидор", "Контактные лица бывают только у организаций.")
    ]


@pytest.mark.django_db(transaction=True)
def test_writing_in_the_background_imports_the_blocks_the_same_way(org, tmp_path, monkeypatch):
    from lavka.imports import engine

    monkeypatch.setattr(engine, "BATCH_SIZE", 1)
    run, counts = run_import(org.rep, tmp_path, FILE, workers=2)
    assert (counts["created"], counts["rejected"]) == (2, 0), errors(run)
    first = blocks_snapshot()
    assert len(first["addresses"]) == 2
    assert len(first["people"]) == 1
    assert len(first["dates"]) == 2

    run, counts = run_import(org.rep, tmp_path, FILE, workers=2)

    assert counts["unchanged"] == 2
    assert blocks_snapshot() == first


@pytest.mark.django_db(transaction=True)
def test_one_new_contact_at_two_clients_is_one_person_even_across_batches(
    org, tmp_path, monkeypatch
):
    from lavka.imports import engine

    monkeypatch.setattr(engine, "BATCH_SIZE", 1)
    text = (
        "Название;Контактное лицо;Email контакта\n"
        "Альфа;Иванов Иван;ivanov@example.ru\n"
        "Бета;Иванов Иван;ivanov@example.ru\n"
    )

    run, counts = run_import(org.rep, tmp_path, text, workers=2)

    assert counts["created"] == 2, errors(run)
    person = Person.objects.get()
    assert sorted(person.employments.values_list("organisation__name", flat=True)) == [
        "Альфа",
        "Бета",
    ]


def test_the_bulk_api_imports_the_blocks_too(org):
    from lavka.imports.services import clients_bulk_upsert

    items = [
        {
            "external_id": "B-1",
            "name": "ООО Бета",
            "street": "ул. Мира, 1",
            "city": "Тверь",
            "contact_name": "Smith John",
            "contact_email": "bad@",
        },
        {"external_id": "B-2", "name": "ООО Гамма", "street": "ул. Мира, 2", "city": "Тверь"},
    ]

    result = clients_bulk_upsert(actor=org.rep, items=items)

    assert (result["created"], result["rejected"]) == (1, 1)
    assert result["results"][0]["errors"] == {
        "contact_email": ["“bad@” is not a valid email address."]
    }
    assert list(Address.objects.values_list("client__name", "street", "city")) == [
        ("ООО Гамма", "ул. Мира, 2", "Тверь")
    ]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_round_trip_export_of_the_four_blocks_reimports_unchanged(org, tmp_path, fmt):
    from decimal import Decimal

    client = ClientFactory(
        owner=org.rep,
        name="ООО Ромашка",
        external_id="R-1",
        email="info@romashka.ru",
        phone="+74951234567",
        website="https://romashka.ru",
        preferred_channel="email",
        preferred_time="после 14:00",
        industry="Розница",
        size="11-50",
        annual_revenue=Decimal("1500000.00"),
        currency="RUB",
        payment_terms_days=30,
        price_list="Опт",
        discount_percent=Decimal("5.50"),
        credit_limit=Decimal("200000.00"),
        inn="7707083893",
        kpp="773601001",
        bank_name="Сбербанк",
        bank_bic="044525225",
        bank_account="40702810938000000001",
        bank_correspondent_account="30101810400000000225",
    )
    address_add(
        actor=org.rep,
        client=client,
        kind="legal",
        country="RU",
        region="Москва",
        city="Москва",
        postcode="101000",
        street="ул. Мясницкая, 1",
    )
    person = ClientFactory(owner=org.rep, kind="person", name="Петрова Анна", email="a@ex.ru")
    important_date_add(actor=org.rep, client=person, kind="birthday", month=3, day=8)
    path = tmp_path / f"export.{fmt}"
    clients_write(viewer=org.rep, path=path, fmt=fmt, round_trip=True)
    before = blocks_snapshot()

    run = import_upload(actor=org.rep, name=path.name, source=path)
    result = import_run_in_process(actor=org.rep, run=run)

    assert result["counts"] == {
        "created": 0,
        "updated": 0,
        "unchanged": 2,
        "duplicates": 0,
        "rejected": 0,
    }, errors(run)
    assert blocks_snapshot() == before


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("17.05.1980", (5, 17, 1980)),
        ("1980-05-17", (5, 17, 1980)),
        ("1980-05-17T00:00:00", (5, 17, 1980)),  # a spreadsheet's date cell
        ("17.05", (5, 17, None)),
        ("29.02", (2, 29, None)),
        ("25/12/1990", (12, 25, 1990)),
        ("19800517", (5, 17, 1980)),  # vCard 3
        ("--0517", (5, 17, None)),  # vCard 4, no year
        ("03/04/1990", None),  # 3 April or 4 March: cannot tell
        ("29.02.1981", None),
        ("вчера", None),
        ("17.05.1800", None),
    ],
)
def test_dates_are_read_in_the_forms_files_use(text, expected):
    assert date_parsed(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Иванов Иван Петрович", ("Иван", "Петрович", "Иванов")),
        ("Иван Петрович Иванов", ("Иван", "Петрович", "Иванов")),
        ("Петров Иван", ("Иван", "", "Петров")),
        ("John Smith", ("John", "", "Smith")),
        ("Cher", ("Cher", "", "")),
    ],
)
def test_a_contacts_full_name_is_split_into_its_parts(text, expected):
    parts = name_split(text)
    assert (parts["first_name"], parts["middle_name"], parts["last_name"]) == expected
