"""Leads in a browser: a visitor fills the hosted web form (a wrong email is refused in
Russian, in place, then the inline thank-you), the rep finds the lead in the list,
converts it (choosing the existing client the duplicate check offers) and lands on the
deal card; the manager sees the converted lead; screenshots in both languages, wide
and narrow."""

from __future__ import annotations

from lavka.clients.services import client_create
from lavka.leads.models import Lead
from lavka.leads.services import web_form_create
from lavka.sales.models import Deal, Pipeline, Stage
from tests.browser.conftest import log_in, screenshot
from tests.factories import TeamFactory, UserFactory, role

PASSWORD = "leads-pass-2026"


def make_pipeline():
    Pipeline.objects.update(is_default=False)
    pipeline = Pipeline.objects.create(name="Продажи", is_default=True, order=0)
    for order, (name, kind, probability) in enumerate(
        [("Новая", "open", 10), ("Выиграна", "won", 100), ("Проиграна", "lost", 0)]
    ):
        Stage.objects.create(
            pipeline=pipeline, name=name, kind=kind, probability=probability, order=order
        )
    return pipeline


def user(username, team, role_code):
    found = UserFactory(username=username, team=team, role=role(role_code))
    found.set_password(PASSWORD)
    found.save()
    return found


def test_capture_on_the_hosted_form_then_convert_to_a_deal(browser):
    team = TeamFactory(name="Продажи Москва")
    admin = user("leadadmin", team, "administrator")
    rep = user("leadrep", team, "sales_rep")
    user("leadmanager", team, "sales_manager")
    make_pipeline()
    existing = client_create(actor=rep, name="Ромашка", email="office@romashka.example")
    form = web_form_create(
        actor=admin,
        name="Заявка на поставку",
        owner=rep,
        language="ru",
        success_message="Спасибо! Менеджер перезвонит вам сегодня.",
    )

    # The administrator's snippet page: the code to paste, shown as text.
    settings_page = browser.new_page()
    log_in(settings_page, "leadadmin", PASSWORD)
    settings_page.goto(f"/sales/leads/forms/{form.pk}/snippet/")
    code = settings_page.input_value("[data-testid=snippet-code]")
    assert f"/f/{form.key}/submit/" in code and code.lstrip().startswith("<style>")
    screenshot(settings_page, "leads-web-form-snippet")

    # A visitor of the website.
    visitor = browser.new_page(locale="en-US")
    visitor.goto(f"/f/{form.key}/?utm_source=yandex&utm_campaign=tea-spring")
    visitor.wait_for_selector("[data-testid=hosted-form]")
    visitor.fill(f"#lavka-{form.pk}-company", "ООО Ромашка")
    visitor.fill(f"#lavka-{form.pk}-contact_name", "Анна Смирнова")
    visitor.fill(f"#lavka-{form.pk}-email", "не почта")
    visitor.fill(f"#lavka-{form.pk}-phone", "+7 916 123-45-67")
    visitor.fill(f"#lavka-{form.pk}-message", "Нужен чай для офиса, 20 кг в месяц")
    visitor.click("button[type=submit]")
    error = visitor.wait_for_selector(f"#lavka-{form.pk}-email-error:visible")
    assert error.inner_text() == "«не почта» — некорректный адрес электронной почты."
    assert Lead.objects.count() == 0
    screenshot(visitor, "leads-hosted-form-error-ru")
    visitor.fill(f"#lavka-{form.pk}-email", "anna@romashka.example")
    visitor.click("button[type=submit]")
    done = visitor.wait_for_selector(".lavka-done")
    assert done.inner_text() == "Спасибо! Менеджер перезвонит вам сегодня."
    screenshot(visitor, "leads-hosted-form-done-ru")
    lead = Lead.objects.get()
    assert (lead.owner, lead.utm_source, lead.campaign) == (rep, "yandex", "tea-spring")
    assert lead.page_url.endswith(f"/f/{form.key}/?utm_source=yandex&utm_campaign=tea-spring")

    # The rep finds it and converts it.
    page = browser.new_page()
    log_in(page, "leadrep", PASSWORD)
    page.click("[data-testid=lang-en]")
    page.wait_for_selector("html[lang=en]")
    page.goto("/sales/leads/")
    row = page.wait_for_selector(f"[data-testid=lead-row-{lead.pk}]")
    assert "ООО Ромашка" in row.inner_text() and "Web form" in row.inner_text()
    screenshot(page, "leads-list-wide-en")
    page.click(f"[data-testid=lead-row-{lead.pk}] a")
    page.wait_for_selector("[data-testid=lead-title]")
    screenshot(page, "leads-card-en")
    page.click("[data-testid=convert-lead]")
    page.wait_for_selector("[data-testid=duplicate-warning]")
    screenshot(page, "leads-convert-duplicate-en")
    page.check(f"[data-testid=attach-{existing.pk}]")
    page.fill("#deal-title", "Чай для офиса")
    page.fill("#deal-amount", "48000")
    page.click("[data-testid=convert-submit]")
    page.wait_for_selector("[data-testid=deal-title]")
    deal = Deal.objects.get()
    assert page.url.endswith(f"/sales/deals/{deal.pk}/")
    assert page.inner_text("[data-testid=deal-title]") == "Чай для офиса"
    assert "Ромашка" in page.inner_text(".page-sub")
    assert (deal.client, deal.amount, deal.person.last_name) == (existing, 48000, "Смирнова")
    assert Lead.objects.get().status == "converted"

    # The manager sees the converted lead, in Russian, wide and narrow.
    manager = browser.new_page(locale="ru-RU")
    log_in(manager, "leadmanager", PASSWORD)
    manager.click("[data-testid=lang-ru]")
    manager.wait_for_selector("html[lang=ru]")
    manager.goto("/sales/leads/?status=converted")
    status = manager.wait_for_selector(
        f"[data-testid=lead-row-{lead.pk}] [data-testid=lead-status]"
    )
    assert status.inner_text() != ""
    screenshot(manager, "leads-list-wide-ru")
    manager.goto(f"/sales/leads/{lead.pk}/")
    manager.wait_for_selector("[data-testid=lead-result]")
    screenshot(manager, "leads-card-converted-ru")
    manager.set_viewport_size({"width": 390, "height": 844})
    manager.goto("/sales/leads/?status=all")
    manager.wait_for_selector(f"[data-testid=lead-row-{lead.pk}]")
    screenshot(manager, "leads-list-narrow-ru")
