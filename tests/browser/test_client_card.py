"""A rep fills a client's card block by block without a page reload: an address, a
phone typed the Russian way, consent, a contract, a personal detail and a birthday."""

from __future__ import annotations

from lavka.clients.models import Address, Consent, ContactPoint, Contract, ImportantDate
from lavka.clients.services.blocks import custom_field_create, tier_create
from tests.browser.conftest import log_in, screenshot
from tests.factories import ClientFactory, TeamFactory, UserFactory, role

PASSWORD = "card-pass-2026"


def test_fill_the_four_blocks_and_personal_details_on_the_card(browser):
    team = TeamFactory(name="Sales")
    admin = UserFactory(username="cardadmin", team=team, role=role("administrator"))
    rep = UserFactory(
        username="cardrep",
        first_name="Olga",
        last_name="Smirnova",
        team=team,
        role=role("sales_rep"),
    )
    rep.set_password(PASSWORD)
    rep.save()
    custom_field_create(actor=admin, entity="client", label="Car brand", type="text")
    tier_create(actor=admin, name="Gold", contact_norm_days=14, colour="good")
    client = ClientFactory(owner=rep, team=team, name="Ромашка", email="", phone="")
    page = browser.new_page()
    log_in(page, "cardrep", PASSWORD)
    page.click("[data-testid=lang-en]")
    page.wait_for_selector("html[lang=en]")
    page.goto(f"/clients/{client.pk}/")

    page.click("[data-testid=add-address] summary")
    page.select_option("#id_addr-kind", "legal")
    page.fill("#id_addr-country", "RU")
    page.fill("#id_addr-city", "Казань")
    page.fill("#id_addr-street", "ул. Баумана, 1")
    page.click("[data-testid=save-address]")
    page.wait_for_selector("[data-testid=address]")

    page.click("[data-testid=add-contact] summary")
    page.select_option("#id_cp-kind", "phone")
    page.fill("#id_cp-value", "8 (495) 123-45-67")
    page.click("[data-testid=save-contact]")
    page.wait_for_selector("[data-testid=phone]")
    page.wait_for_selector("#head-phone >> text=8 (495) 123-45-67")

    page.click("[data-testid=add-consent] summary")
    page.select_option("#id_consent-channel", "email")
    page.select_option("#id_consent-granted", "yes")
    page.fill("#id_consent-source", "web form")
    page.click("[data-testid=save-consent]")
    page.wait_for_selector("[data-testid=consent-email] .badge-good")

    page.click("[data-testid=add-contract] summary")
    page.fill("#id_contract-number", "Д-2026/17")
    page.fill("#id_contract-start_on", "2026-01-01")
    page.fill("#id_contract-end_on", "2026-12-31")
    page.fill("#id_contract-amount", "1200000")
    page.select_option("#id_contract-status", "active")
    page.click("[data-testid=save-contract]")
    page.wait_for_selector("[data-testid=contract]")

    page.click("[data-testid=add-file] summary")
    page.set_input_files(
        "#id_file-file",
        files=[
            {"name": "signed.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%%EOF\n"}
        ],
    )
    page.select_option("#id_file-contract", label="Д-2026/17")
    page.check("#id_file-is_signed_copy")
    page.click("[data-testid=save-file]")
    page.wait_for_selector("[data-testid=contract] >> text=signed.pdf")

    page.click("[data-testid=add-person] summary")
    page.fill("#id_person-last_name", "Смирнова")
    page.fill("#id_person-first_name", "Анна")
    page.fill("#id_person-job_title", "CFO")
    page.click("[data-testid=save-person]")
    page.wait_for_selector("[data-testid=person] >> text=CFO")

    page.click("[data-testid=add-custom] summary")
    page.fill("#id_custom-car_brand", "Volvo")
    page.click("[data-testid=save-custom]")
    page.wait_for_selector("[data-testid=custom-car_brand] >> text=Volvo")

    page.click("[data-testid=add-date] summary")
    page.select_option("#id_date-kind", "birthday")
    page.fill("#id_date-day", "29")
    page.select_option("#id_date-month", "2")
    page.click("[data-testid=save-date]")
    page.wait_for_selector("[data-testid=important-date]")

    page.click("[data-testid=add-tier] summary")
    page.select_option("#id_tier-tier", label="Gold")
    page.fill("#id_tier-reason", "Signed a big contract")
    page.click("[data-testid=save-tier]")
    page.wait_for_selector("[data-testid=tier-change]")
    page.wait_for_selector("[data-testid=tier-badge] >> text=Gold")

    assert "Signed a big contract" in page.inner_text("[data-testid=tier-change]")
    assert "Казань" in page.inner_text("[data-testid=address]")
    assert page.inner_text("[data-testid=phone]").strip().startswith("8 (495) 123-45-67")
    assert "web form" in page.inner_text("[data-testid=consent-email]")
    contract_row = page.inner_text("[data-testid=contract]")
    assert "Д-2026/17" in contract_row and "Active" in contract_row
    assert "Birthday" in page.inner_text("[data-testid=important-date]")
    assert "29.02" in page.inner_text("[data-testid=important-date]")
    assert Address.objects.get(client=client).city == "Казань"
    assert ContactPoint.objects.get(client=client).value == "+74951234567"
    assert Consent.objects.get(client=client).source == "web form"
    assert Contract.objects.get(client=client).number == "Д-2026/17"
    assert (ImportantDate.objects.get(client=client).month, 29) == (2, 29)
    client.refresh_from_db()
    assert client.custom == {"car_brand": "Volvo"}
    assert client.city == "Казань"
    screenshot(page, "client-card-en")

    page.click("[data-testid=lang-ru]")
    page.wait_for_selector("html[lang=ru]")
    page.goto(f"/clients/{client.pk}/")
    assert "8 (495) 123-45-67" in page.inner_text("[data-testid=phone]")
    screenshot(page, "client-card-ru")
    page.set_viewport_size({"width": 420, "height": 900})
    screenshot(page, "client-card-ru-narrow")
