"""The card's blocks: contact points, addresses, consents, contracts, files, people,
important dates and their reminders, custom fields and tiers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from lavka.audit.models import AuditEvent
from lavka.clients.models import (
    Address,
    Attachment,
    Consent,
    ContactPoint,
    Contract,
    CustomField,
    Employment,
    ImportantDate,
    Tier,
)
from lavka.clients.selectors.blocks import client_card
from lavka.clients.services import client_update
from lavka.clients.services.blocks import (
    address_add,
    address_remove,
    attachment_add,
    consent_record,
    contact_point_add,
    contact_point_remove,
    contract_create,
    contract_update,
    custom_field_create,
    custom_field_update,
    employment_link,
    important_date_add,
    important_dates_remind,
    person_create,
    person_important_date_add,
    tier_create,
    tier_update,
)
from lavka.clients.services.core import client_fields_clean
from lavka.core.errors import NotFound, NotPermitted, StaleVersion, ValidationFailed
from lavka.notifications.models import Notification
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


@pytest.fixture
def client_of_rep(org):
    return ClientFactory(owner=org.rep, team=org.moscow, name="Romashka", email="", phone="")


# --- contact points -------------------------------------------------------------------


def test_phone_typed_any_way_is_stored_in_e164_and_becomes_the_primary_phone(org, client_of_rep):
    point = contact_point_add(
        actor=org.rep, client=client_of_rep, kind="phone", value="8 (495) 123-45-67"
    )

    client_of_rep.refresh_from_db()
    assert point.value == "+74951234567"
    assert point.is_primary is True
    assert client_of_rep.phone == "+74951234567"
    assert "74951234567" in client_of_rep.search_text


def test_second_email_is_not_primary_unless_asked(org, client_of_rep):
    contact_point_add(actor=org.rep, client=client_of_rep, kind="email", value="A@Example.org")
    second = contact_point_add(
        actor=org.rep, client=client_of_rep, kind="email", value="b@example.org"
    )

    client_of_rep.refresh_from_db()
    assert second.is_primary is False
    assert client_of_rep.email == "a@example.org"


def test_removing_the_primary_email_promotes_the_next_one(org, client_of_rep):
    first = contact_point_add(
        actor=org.rep, client=client_of_rep, kind="email", value="a@example.org"
    )
    contact_point_add(actor=org.rep, client=client_of_rep, kind="email", value="b@example.org")

    contact_point_remove(actor=org.rep, point=first)

    client_of_rep.refresh_from_db()
    assert client_of_rep.email == "b@example.org"
    assert list(
        ContactPoint.objects.filter(client=client_of_rep).values_list("value", "is_primary")
    ) == [("b@example.org", True)]


def test_bad_phone_is_refused_naming_the_field(org, client_of_rep):
    with pytest.raises(ValidationFailed) as caught:
        contact_point_add(actor=org.rep, client=client_of_rep, kind="phone", value="12")

    assert list(caught.value.fields) == ["value"]
    assert "not a valid phone number" in caught.value.fields["value"][0]
    assert ContactPoint.objects.filter(client=client_of_rep).count() == 0


def test_bad_email_is_refused_naming_the_field(org, client_of_rep):
    with pytest.raises(ValidationFailed) as caught:
        contact_point_add(actor=org.rep, client=client_of_rep, kind="email", value="not@mail")

    assert "not a valid email address" in caught.value.fields["value"][0]


def test_bad_inn_checksum_is_refused_naming_the_field():
    with pytest.raises(ValidationFailed) as caught:
        client_fields_clean({"inn": "7707083894"})

    assert caught.value.fields == {"inn": ["INN “7707083894” is not valid: check the digits."]}


# --- addresses ------------------------------------------------------------------------


def test_first_address_is_primary_and_gives_the_client_its_city(org, client_of_rep):
    address = address_add(
        actor=org.rep,
        client=client_of_rep,
        kind="legal",
        country="ru",
        city="Казань",
        street="ул. Баумана, 1",
    )

    client_of_rep.refresh_from_db()
    assert (address.country, address.is_primary) == ("RU", True)
    assert client_of_rep.city == "Казань"


def test_a_new_primary_address_moves_the_city(org, client_of_rep):
    address_add(actor=org.rep, client=client_of_rep, city="Казань")
    address_add(actor=org.rep, client=client_of_rep, city="Самара", is_primary=True)

    client_of_rep.refresh_from_db()
    assert client_of_rep.city == "Самара"
    assert Address.objects.filter(client=client_of_rep, is_primary=True).count() == 1


def test_unknown_country_code_is_refused(org, client_of_rep):
    with pytest.raises(ValidationFailed) as caught:
        address_add(actor=org.rep, client=client_of_rep, country="XX", city="Nowhere")

    assert list(caught.value.fields) == ["country"]
    assert Address.objects.count() == 0


# --- consents -------------------------------------------------------------------------


def test_consent_is_kept_as_a_history_and_the_latest_counts(org, client_of_rep):
    consent_record(
        actor=org.rep,
        client=client_of_rep,
        channel="email",
        granted=True,
        source="web form",
        at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    consent_record(
        actor=org.rep,
        client=client_of_rep,
        channel="email",
        granted=False,
        source="phone call",
        at=dt.datetime(2026, 2, 1, tzinfo=dt.UTC),
    )

    card = client_card(viewer=org.rep, client_id=client_of_rep.pk)
    email = next(s for s in card.consents if s.channel == "email")
    assert email.granted is False
    assert [(c.granted, c.source) for c in email.history] == [
        (False, "phone call"),
        (True, "web form"),
    ]
    assert Consent.objects.filter(client=client_of_rep).count() == 2


# --- contracts ------------------------------------------------------------------------


def test_contract_number_becomes_searchable(org, client_of_rep):
    contract = contract_create(
        actor=org.rep,
        client=client_of_rep,
        number="Д-2026/17",
        start_on="2026-01-01",
        end_on="2026-12-31",
        amount="1200000.50",
        currency="rub",
        status="active",
    )

    client_of_rep.refresh_from_db()
    assert (contract.currency, str(contract.amount)) == ("RUB", "1200000.50")
    assert "д-2026/17" in client_of_rep.search_text


def test_contract_ending_before_it_starts_is_refused(org, client_of_rep):
    with pytest.raises(ValidationFailed) as caught:
        contract_create(
            actor=org.rep,
            client=client_of_rep,
            number="1",
            start_on="2026-05-01",
            end_on="2026-04-30",
        )

    assert caught.value.fields == {"end_on": ["The end date must not be before the start date."]}
    assert Contract.objects.count() == 0


def test_contract_needs_a_number_a_non_negative_amount_and_a_currency_code(org, client_of_rep):
    with pytest.raises(ValidationFailed) as caught:
        contract_create(
            actor=org.rep, client=client_of_rep, number=" ", amount="-1", currency="RUBL"
        )

    assert sorted(caught.value.fields) == ["amount", "currency", "number"]


def test_contract_update_with_a_stale_version_changes_nothing(org, client_of_rep):
    contract = contract_create(actor=org.rep, client=client_of_rep, number="1")
    contract_update(actor=org.rep, contract=contract, expected_version=1, subject="Supply")

    with pytest.raises(StaleVersion):
        contract_update(actor=org.rep, contract=contract, expected_version=1, subject="Other")

    contract.refresh_from_db()
    assert (contract.subject, contract.version) == ("Supply", 2)


# --- files ----------------------------------------------------------------------------


def test_pdf_is_stored_with_its_type(org, client_of_rep, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    contract = contract_create(actor=org.rep, client=client_of_rep, number="1")

    attachment = attachment_add(
        actor=org.rep,
        client=client_of_rep,
        contract=contract,
        upload=SimpleUploadedFile("signed.pdf", PDF),
        is_signed_copy=True,
    )

    assert (attachment.name, attachment.size, attachment.content_type) == (
        "signed.pdf",
        len(PDF),
        "application/pdf",
    )
    assert attachment.is_signed_copy is True
    with attachment.file.open("rb") as stored:
        assert stored.read() == PDF


def test_an_exe_renamed_pdf_is_refused(org, client_of_rep):
    with pytest.raises(ValidationFailed) as caught:
        attachment_add(
            actor=org.rep,
            client=client_of_rep,
            upload=SimpleUploadedFile("invoice.pdf", b"MZ\x90\x00" + b"\x00" * 100),
        )

    assert caught.value.fields == {
        "file": ["The file's contents do not match its extension “.pdf”: it is refused."]
    }
    assert Attachment.objects.count() == 0


def test_an_exe_is_refused_by_its_type(org, client_of_rep):
    with pytest.raises(ValidationFailed) as caught:
        attachment_add(
            actor=org.rep,
            client=client_of_rep,
            upload=SimpleUploadedFile("setup.exe", b"MZ\x90\x00"),
        )

    assert "not accepted" in caught.value.fields["file"][0]


def test_a_file_over_the_limit_is_refused(org, client_of_rep, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024
    upload = SimpleUploadedFile("big.pdf", PDF + b"0" * 2000)

    with pytest.raises(ValidationFailed) as caught:
        attachment_add(actor=org.rep, client=client_of_rep, upload=upload)

    assert caught.value.fields == {"file": ["The file is too large: at most 0 MB."]}
    assert Attachment.objects.count() == 0


# --- people ---------------------------------------------------------------------------


def test_a_person_can_work_at_two_organisations(org, client_of_rep):
    other = ClientFactory(owner=org.rep, team=org.moscow, name="Vasilek")
    person = person_create(
        actor=org.rep,
        first_name="Анна",
        last_name="Смирнова",
        organisation=client_of_rep,
        job_title="CFO",
        role="decides",
    )

    employment_link(actor=org.rep, person=person, organisation=other, job_title="Adviser")

    assert sorted(
        Employment.objects.filter(person=person).values_list("organisation__name", "job_title")
    ) == [("Romashka", "CFO"), ("Vasilek", "Adviser")]


# --- important dates ------------------------------------------------------------------


def test_29_february_is_a_valid_date_and_30_february_is_not(org, client_of_rep):
    important_date_add(actor=org.rep, client=client_of_rep, kind="birthday", month=2, day=29)

    with pytest.raises(ValidationFailed) as caught:
        important_date_add(actor=org.rep, client=client_of_rep, kind="birthday", month=2, day=30)

    assert caught.value.fields == {"day": ["This month has no such day."]}
    assert ImportantDate.objects.count() == 1


def test_owner_is_reminded_once_a_year_before_the_date(org, client_of_rep):
    important_date_add(
        actor=org.rep, client=client_of_rep, kind="birthday", month=3, day=10, remind_days_before=3
    )

    too_early = important_dates_remind(today=dt.date(2026, 3, 6))
    sent = important_dates_remind(today=dt.date(2026, 3, 7))
    again = important_dates_remind(today=dt.date(2026, 3, 8))
    next_year = important_dates_remind(today=dt.date(2027, 3, 9))

    assert (too_early, sent, again, next_year) == (0, 1, 0, 1)
    titles = list(
        Notification.objects.filter(recipient=org.rep)
        .order_by("id")
        .values_list("title", flat=True)
    )
    assert titles == ["Birthday of Romashka in 3 days", "Birthday of Romashka in 1 days"]
    assert ImportantDate.objects.get().last_reminded_for == 2027


def test_reminder_across_the_new_year(org, client_of_rep):
    important_date_add(
        actor=org.rep, client=client_of_rep, kind="anniversary", month=1, day=2, label="Founded"
    )

    assert important_dates_remind(today=dt.date(2026, 12, 30)) == 1
    assert ImportantDate.objects.get().last_reminded_for == 2027


def test_a_contact_persons_birthday_reminds_the_persons_owner_with_a_link_to_them(
    org, client_of_rep
):
    person = person_create(
        actor=org.rep, first_name="Anna", last_name="Smirnova", organisation=client_of_rep
    )

    date = person_important_date_add(
        actor=org.rep,
        person=person,
        kind="birthday",
        month=3,
        day=10,
        year=1985,
        remind_days_before=3,
    )

    assert (date.person, date.client, date.year) == (person, None, 1985)
    person.refresh_from_db()
    assert person.version == 2
    event = AuditEvent.objects.filter(object_id=str(person.pk), actor=org.rep).latest("id")
    assert event.changes == {"important_dates": [None, "Birthday 10.03"]}
    assert important_dates_remind(today=dt.date(2026, 3, 7)) == 1
    reminder = Notification.objects.get(recipient=org.rep)
    assert (reminder.title, reminder.url) == (
        "Birthday of Anna Smirnova in 3 days",
        f"/people/{person.pk}/",
    )


def test_only_who_may_edit_a_person_adds_their_dates_and_the_date_is_checked(org, client_of_rep):
    person = person_create(
        actor=org.rep, first_name="Anna", last_name="Smirnova", organisation=client_of_rep
    )

    with pytest.raises(NotFound):
        person_important_date_add(
            actor=org.spb_rep, person=person, kind="birthday", month=3, day=10
        )
    with pytest.raises(NotPermitted):
        person_important_date_add(
            actor=org.colleague, person=person, kind="birthday", month=3, day=10
        )
    with pytest.raises(ValidationFailed) as caught:
        person_important_date_add(actor=org.rep, person=person, kind="birthday", month=2, day=30)

    assert caught.value.fields == {"day": ["This month has no such day."]}
    assert not ImportantDate.objects.exists()


# --- custom fields and tiers ----------------------------------------------------------


def test_administrator_defines_a_field_and_its_value_is_checked(org, client_of_rep):
    field = custom_field_create(
        actor=org.admin,
        entity="client",
        label="Car brand",
        type="choice",
        choices=["Lada", "Volvo"],
    )

    client_update(actor=org.rep, client=client_of_rep, custom={"car_brand": "Volvo"})
    with pytest.raises(ValidationFailed) as caught:
        client_update(actor=org.rep, client=client_of_rep, custom={"car_brand": "Tesla"})

    client_of_rep.refresh_from_db()
    assert field.key == "car_brand"
    assert client_of_rep.custom == {"car_brand": "Volvo"}
    assert list(caught.value.fields) == ["custom.car_brand"]


def test_only_administrators_manage_fields_and_tiers(org):
    field = custom_field_create(actor=org.admin, entity="client", label="Hobby", type="text")
    tiers_before = Tier.objects.count()

    with pytest.raises(NotPermitted):
        custom_field_create(actor=org.manager, entity="client", label="Pet", type="text")
    with pytest.raises(NotPermitted):
        custom_field_update(actor=org.rep, field=field, label="Sport")
    with pytest.raises(NotPermitted):
        tier_create(actor=org.rep, name="Gold")

    field.refresh_from_db()
    assert field.label == "Hobby"
    assert CustomField.objects.count() == 1
    assert Tier.objects.count() == tiers_before


def test_tier_created_and_its_norm_changed(org):
    tier = tier_create(actor=org.admin, name="Gold", order=5, contact_norm_days=14)

    tier_update(actor=org.admin, tier=tier, contact_norm_days=7)

    tier.refresh_from_db()
    assert (tier.code, tier.name, tier.order, tier.contact_norm_days) == ("gold", "Gold", 5, 7)


def test_tier_change_on_the_card_is_in_its_history(org, client_of_rep):
    gold = tier_create(actor=org.admin, name="Gold")

    client_update(actor=org.rep, client=client_of_rep, tier=gold, tier_reason="Big order")

    card = client_card(viewer=org.rep, client_id=client_of_rep.pk)
    change = card.tier_changes[0]
    assert (change.to_tier, change.changed_by, change.reason) == (gold, org.rep, "Big order")


# --- access ---------------------------------------------------------------------------


def test_a_rep_of_another_team_gets_not_found_on_every_block_and_nothing_changes(
    org, client_of_rep
):
    address = address_add(actor=org.rep, client=client_of_rep, city="Казань")
    point = contact_point_add(
        actor=org.rep, client=client_of_rep, kind="email", value="a@example.org"
    )
    contract = contract_create(actor=org.rep, client=client_of_rep, number="1")
    events_before = AuditEvent.objects.count()
    stranger = org.spb_rep

    calls = [
        lambda: contact_point_add(
            actor=stranger, client=client_of_rep, kind="email", value="x@example.org"
        ),
        lambda: contact_point_remove(actor=stranger, point=point),
        lambda: address_add(actor=stranger, client=client_of_rep, city="Омск"),
        lambda: address_remove(actor=stranger, address=address),
        lambda: consent_record(actor=stranger, client=client_of_rep, channel="email", granted=True),
        lambda: contract_create(actor=stranger, client=client_of_rep, number="2"),
        lambda: contract_update(actor=stranger, contract=contract, subject="x"),
        lambda: attachment_add(
            actor=stranger, client=client_of_rep, upload=SimpleUploadedFile("a.pdf", PDF)
        ),
        lambda: person_create(actor=stranger, last_name="X", organisation=client_of_rep),
        lambda: important_date_add(
            actor=stranger, client=client_of_rep, kind="birthday", month=1, day=1
        ),
        lambda: client_card(viewer=stranger, client_id=client_of_rep.pk),
    ]
    for call in calls:
        with pytest.raises(NotFound):
            call()

    assert AuditEvent.objects.count() == events_before
    assert list(ContactPoint.objects.values_list("value", flat=True)) == ["a@example.org"]
    assert list(Address.objects.values_list("city", flat=True)) == ["Казань"]
    assert Consent.objects.count() == 0
    assert list(Contract.objects.values_list("number", "subject")) == [("1", "")]
    assert Attachment.objects.count() == 0
    assert ImportantDate.objects.count() == 0


def test_card_renders_in_a_fixed_number_of_queries(
    org, client_of_rep, django_assert_max_num_queries
):
    for i in range(5):
        contact_point_add(
            actor=org.rep, client=client_of_rep, kind="email", value=f"p{i}@example.org"
        )
        address_add(actor=org.rep, client=client_of_rep, city=f"City {i}")
        contract_create(actor=org.rep, client=client_of_rep, number=f"N{i}")
        person_create(actor=org.rep, last_name=f"P{i}", organisation=client_of_rep)

    with django_assert_max_num_queries(16):
        client_card(viewer=org.rep, client_id=client_of_rep.pk)


def test_audit_records_each_block_change_on_the_client(org, client_of_rep):
    address_add(actor=org.rep, client=client_of_rep, city="Казань")

    event = AuditEvent.objects.filter(object_id=str(client_of_rep.pk)).latest("id")
    assert event.changes == {"addresses": [None, "Казань"]}


# --- the web card ---------------------------------------------------------------------


def _logged_in(user):
    from django.test import Client as HttpClient

    http = HttpClient()
    http.force_login(user)
    return http


def test_card_page_shows_the_blocks_in_a_handful_of_queries(
    org, client_of_rep, django_assert_max_num_queries
):
    for i in range(3):
        address_add(actor=org.rep, client=client_of_rep, city=f"City {i}")
        contract_create(actor=org.rep, client=client_of_rep, number=f"N-{i}")
        contact_point_add(
            actor=org.rep, client=client_of_rep, kind="phone", value=f"+7 495 123-45-6{i}"
        )
    http = _logged_in(org.rep)

    with django_assert_max_num_queries(30):
        response = http.get(f"/clients/{client_of_rep.pk}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-testid="address"') == 3
    assert html.count('data-testid="contract"') == 3
    assert "8 (495) 123-45-60" in html


def test_adding_an_address_with_htmx_answers_with_the_blocks(org, client_of_rep):
    http = _logged_in(org.rep)

    response = http.post(
        f"/clients/{client_of_rep.pk}/card/addresses/",
        {"addr-kind": "postal", "addr-city": "Тула", "addr-country": "RU"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    assert 'id="card-blocks"' in response.content.decode()
    assert list(Address.objects.values_list("kind", "city")) == [("postal", "Тула")]


def test_a_bad_phone_on_the_card_is_shown_next_to_the_field(org, client_of_rep):
    http = _logged_in(org.rep)

    response = http.post(
        f"/clients/{client_of_rep.pk}/card/contacts/",
        {"cp-kind": "phone", "cp-value": "12"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 422
    assert "“12” is not a valid phone number." in response.content.decode()
    assert ContactPoint.objects.count() == 0


def test_a_file_is_downloaded_only_by_those_who_see_its_client(
    org, client_of_rep, settings, tmp_path
):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    attachment = attachment_add(
        actor=org.rep, client=client_of_rep, upload=SimpleUploadedFile("offer.pdf", PDF)
    )

    mine = _logged_in(org.rep).get(f"/files/{attachment.pk}/")
    theirs = _logged_in(org.spb_rep).get(f"/files/{attachment.pk}/")

    assert mine.status_code == 200
    assert b"".join(mine.streaming_content) == PDF
    assert theirs.status_code == 404


def test_settings_pages_for_fields_and_tiers_are_for_administrators(org):
    admin, rep = _logged_in(org.admin), _logged_in(org.rep)

    created = admin.post(
        "/settings/custom-fields/",
        {"entity": "client", "label": "Hobby", "type": "text", "order": "0"},
    )
    tier = admin.post(
        "/settings/tiers/",
        {"name": "Gold", "order": "4", "contact_norm_days": "10", "colour": "good"},
    )
    refused = rep.get("/settings/tiers/")

    assert (created.status_code, tier.status_code, refused.status_code) == (302, 302, 403)
    assert list(CustomField.objects.values_list("key", "label")) == [("hobby", "Hobby")]
    assert Tier.objects.get(code="gold").contact_norm_days == 10


def test_edit_form_saves_the_commercial_block_and_names_a_bad_inn(org, client_of_rep):
    http = _logged_in(org.rep)
    form = {
        "kind": "organisation",
        "name": "Romashka",
        "version": client_of_rep.version,
        "industry": "Retail",
        "credit_limit": "500 000",
        "inn": "7707083893",
        "kpp": "773601001",
    }

    bad = http.post(f"/clients/{client_of_rep.pk}/edit/", {**form, "inn": "7707083894"})
    good = http.post(f"/clients/{client_of_rep.pk}/edit/", form)

    assert bad.status_code == 422
    assert "INN “7707083894” is not valid: check the digits." in bad.content.decode()
    assert good.status_code == 302
    client_of_rep.refresh_from_db()
    assert (
        client_of_rep.industry,
        str(client_of_rep.credit_limit),
        client_of_rep.inn,
        client_of_rep.currency,
    ) == ("Retail", "500000.00", "7707083893", "RUB")


def test_contract_edited_on_the_card_and_a_stale_form_is_refused(org, client_of_rep):
    contract = contract_create(actor=org.rep, client=client_of_rep, number="N-1")
    http = _logged_in(org.rep)
    url = f"/clients/{client_of_rep.pk}/card/contracts/{contract.pk}/"
    form = {
        f"c{contract.pk}-number": "N-1",
        f"c{contract.pk}-status": "active",
        f"c{contract.pk}-renewal": "automatic",
        f"c{contract.pk}-currency": "EUR",
        f"c{contract.pk}-version": "1",
    }

    saved = http.post(url, form, HTTP_HX_REQUEST="true")
    stale = http.post(url, {**form, f"c{contract.pk}-status": "terminated"}, HTTP_HX_REQUEST="true")

    assert (saved.status_code, stale.status_code) == (200, 422)
    assert "changed by someone else" in stale.content.decode()
    contract.refresh_from_db()
    assert (contract.status, contract.renewal, contract.currency, contract.version) == (
        "active",
        "automatic",
        "EUR",
        2,
    )
