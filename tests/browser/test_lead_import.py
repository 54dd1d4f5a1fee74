"""A sales rep working in Russian imports an exhibition's visitors (a Windows-1251
semicolon CSV with a mistake) from the leads list and sees the leads and the row report."""

from __future__ import annotations

from lavka.leads.models import Lead
from tests.browser.conftest import log_in, screenshot
from tests.factories import TeamFactory, UserFactory, role

CSV = (
    "Компания;ФИО;E-mail;Телефон;Источник\n"
    "ООО Ромашка;Иван Петров;ivan@romashka.example;8 (495) 123-45-67;выставка\n"
    "ИП Сидоров;Пётр Сидоров;petr@@example;;\n"
    "ООО Лютик;Мария Котова;maria@lyutik.example;;\n"
)


def test_a_rep_imports_leads_in_russian_and_sees_the_row_report(browser, tmp_path):
    rep = UserFactory(username="leadrep", team=TeamFactory(), role=role("sales_rep"), language="ru")
    rep.set_password("lead-pass-123")
    rep.save()
    path = tmp_path / "visitors.csv"
    path.write_bytes(CSV.encode("cp1251"))
    page = browser.new_page()
    log_in(page, "leadrep", "lead-pass-123")

    page.goto("/sales/leads/")
    page.get_by_test_id("import-leads-link").click()
    page.wait_for_url("**/imports/leads/")
    page.set_input_files("#import-file", str(path))
    page.get_by_test_id("upload").click()
    page.wait_for_url("**/mapping/")
    assert page.locator("#col-0").input_value() == "company"
    assert page.locator("#col-2").input_value() == "email"
    page.get_by_test_id("to-preview").click()
    page.wait_for_url("**/preview/")
    screenshot(page, "lead-import-preview-ru")
    page.get_by_test_id("start-import").click()
    page.wait_for_url("**/imports/*/")
    page.wait_for_selector("[data-testid=import-counts]")

    counts = page.get_by_test_id("import-counts")
    assert counts.locator("[data-count=created] dd").inner_text() == "2"
    assert counts.locator("[data-count=rejected] dd").inner_text() == "1"
    rows = page.get_by_test_id("row-errors").locator("tbody tr")
    assert rows.count() == 1
    assert rows.nth(0).inner_text().split("\t")[:3] == ["3", "E-mail", "petr@@example"]
    screenshot(page, "lead-import-report-ru")
    leads = {lead.company: (lead.source, lead.owner_id) for lead in Lead.objects.all()}
    assert leads == {"ООО Ромашка": ("event", rep.pk), "ООО Лютик": ("import", rep.pk)}
