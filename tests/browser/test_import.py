"""A sales rep imports a Windows-1251 semicolon CSV with mistakes through the wizard and
sees the per-row report."""

from __future__ import annotations

from lavka.clients.models import Client
from tests.browser.conftest import log_in, screenshot
from tests.factories import UserFactory

CSV = (
    "Название;Email;Телефон;ИНН;Город\n"
    "ООО Ромашка;info@romashka.ru;8 (495) 123-45-67;7707083893;Москва\n"
    "ООО Лютик;lutik@example;+7 916 123-45-67;;Тверь\n"
    "ООО Кактус;kaktus@example.ru;;1234567890;Омск\n"
    "ИП Иванов;ivanov@example.ru;+7 912 000 11 22;7736207543;Тула\n"
)


def test_wizard_imports_a_windows_1251_csv_and_shows_the_row_report(browser, tmp_path):
    user = UserFactory(username="importer", language="en")
    user.set_password("import-pass-123")
    user.save()
    path = tmp_path / "clients.csv"
    path.write_bytes(CSV.encode("cp1251"))
    page = browser.new_page()
    log_in(page, "importer", "import-pass-123")

    page.goto("/clients/")
    page.get_by_test_id("import-link").click()
    page.wait_for_url("**/imports/")
    page.set_input_files("#import-file", str(path))
    page.get_by_test_id("upload").click()
    page.wait_for_url("**/mapping/")
    assert page.locator("#col-0").input_value() == "name"
    assert page.locator("#col-3").input_value() == "inn"
    screenshot(page, "import-mapping-en")
    page.get_by_test_id("to-preview").click()
    page.wait_for_url("**/preview/")
    assert page.get_by_text("“lutik@example” is not a valid email address.").is_visible()
    screenshot(page, "import-preview-en")
    page.get_by_test_id("start-import").click()
    page.wait_for_url("**/imports/*/")
    page.wait_for_selector("[data-testid=import-counts]")

    counts = page.get_by_test_id("import-counts")
    assert counts.locator("[data-count=created] dd").inner_text() == "2"
    assert counts.locator("[data-count=rejected] dd").inner_text() == "2"
    rows = page.get_by_test_id("row-errors").locator("tbody tr")
    assert rows.count() == 2
    assert rows.nth(0).inner_text().split("\t")[:3] == ["3", "Email", "lutik@example"]
    assert rows.nth(1).inner_text().split("\t")[:3] == ["4", "ИНН", "1234567890"]
    screenshot(page, "import-report-en")
    with page.expect_download() as download:
        page.get_by_test_id("download-report").click()
    with open(download.value.path(), encoding="utf-8-sig") as fh:
        assert len(fh.read().splitlines()) == 3
    assert sorted(Client.objects.values_list("name", flat=True)) == ["ИП Иванов", "ООО Ромашка"]
