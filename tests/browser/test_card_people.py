"""A rep corrects an address in place (a mistake is shown next to its field), links a
contact person of one organisation to a second one, sees both places on the person's
page, and unlinks them again, all without a page reload."""

from __future__ import annotations

from lavka.clients.models import Address, Employment
from lavka.clients.services.blocks import address_add, person_create
from tests.browser.conftest import log_in, screenshot
from tests.factories import ClientFactory, TeamFactory, UserFactory, role

PASSWORD = "people-pass-2026"


def test_edit_an_address_and_link_a_person_to_a_second_organisation(browser):
    team = TeamFactory(name="Sales")
    rep = UserFactory(username="peoplerep", team=team, role=role("sales_rep"))
    rep.set_password(PASSWORD)
    rep.save()
    romashka = ClientFactory(owner=rep, team=team, name="Ромашка", email="", phone="")
    vasilek = ClientFactory(owner=rep, team=team, name="Василёк", email="", phone="")
    address = address_add(actor=rep, client=romashka, kind="legal", country="RU", city="Казань")
    anna = person_create(
        actor=rep,
        first_name="Анна",
        last_name="Смирнова",
        email="anna@romashka.ru",
        organisation=romashka,
        job_title="CFO",
    )
    page = browser.new_page()
    log_in(page, "peoplerep", PASSWORD)
    page.click("[data-testid=lang-en]")
    page.wait_for_selector("html[lang=en]")

    page.goto(f"/clients/{romashka.pk}/")
    page.click(f"[data-testid=edit-address-{address.pk}] summary")
    page.fill(f"#id_a{address.pk}-country", "XX")
    page.fill(f"#id_a{address.pk}-street", "ул. Баумана, 1")
    page.click(f"[data-testid=save-address-{address.pk}]")
    error = page.wait_for_selector(f"#id_a{address.pk}-country_error")
    assert "two-letter country code" in error.inner_text()
    assert page.input_value(f"#id_a{address.pk}-street") == "ул. Баумана, 1"
    screenshot(page, "card-address-edit-error-en")
    page.fill(f"#id_a{address.pk}-country", "ru")
    page.click(f"[data-testid=save-address-{address.pk}]")
    page.wait_for_selector("[data-testid=address] >> text=ул. Баумана, 1, Казань")
    assert Address.objects.get(pk=address.pk).country == "RU"

    page.goto(f"/clients/{vasilek.pk}/")
    page.click("[data-testid=add-link] summary")
    # The form loads when the disclosure opens; type once htmx has wired its search.
    page.wait_for_function(
        "() => { const q = document.querySelector('#id_link-q');"
        " return q && q['htmx-internal-data'] !== undefined; }"
    )
    page.fill("#id_link-q", "смирн")
    option = page.wait_for_selector(f"#id_link-person input[value='{anna.pk}']")
    assert "CFO at Ромашка" in page.inner_text("[data-testid=link-found]")
    option.check()
    page.fill("#id_link-job_title", "Adviser")
    page.fill("#id_link-role", "approves")
    screenshot(page, "card-link-person-en")
    page.click("[data-testid=save-link]")
    page.wait_for_selector("[data-testid=person] >> text=Adviser")
    assert "Анна Смирнова" in page.inner_text("[data-testid=block-people]")

    page.click("[data-testid=person] >> text=Анна Смирнова")
    page.wait_for_url(f"**/people/{anna.pk}/")
    jobs = page.inner_text("[data-testid=person-jobs]")
    assert "Ромашка" in jobs and "CFO" in jobs
    assert "Василёк" in jobs and "Adviser" in jobs
    screenshot(page, "person-page-en")
    page.set_viewport_size({"width": 420, "height": 900})
    screenshot(page, "person-page-en-narrow")
    page.set_viewport_size({"width": 1280, "height": 800})

    page.goto(f"/clients/{vasilek.pk}/")
    job = Employment.objects.get(person=anna, organisation=vasilek)
    page.once("dialog", lambda dialog: dialog.accept())
    page.click(f"[data-testid=unlink-{job.pk}]")
    page.wait_for_selector("[data-testid=person]", state="detached")
    assert list(Employment.objects.values_list("organisation__name", flat=True)) == ["Ромашка"]

    page.click("[data-testid=lang-ru]")
    page.wait_for_selector("html[lang=ru]")
    page.goto(f"/clients/{romashka.pk}/")
    page.click(f"[data-testid=edit-address-{address.pk}] summary")
    page.click("[data-testid=add-link] summary")
    screenshot(page, "card-people-forms-ru")
    page.set_viewport_size({"width": 420, "height": 900})
    screenshot(page, "card-people-forms-ru-narrow")
