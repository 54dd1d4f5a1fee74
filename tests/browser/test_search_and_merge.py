"""A user's journey: find a client by a misspelled name and by a phone typed another
way from the top search box, review the duplicates, merge two, and see both
histories on the client kept."""

from __future__ import annotations

from lavka.clients.models import DuplicateCandidate, Touchpoint
from lavka.clients.services import client_create
from lavka.clients.services.duplicates import duplicates_scan
from tests.browser.conftest import log_in, screenshot
from tests.factories import TeamFactory, UserFactory, role


def test_find_misspelled_and_by_phone_then_merge_duplicates(browser):
    manager = UserFactory(
        username="merger", team=TeamFactory(name="Moscow"), role=role("sales_manager")
    )
    manager.set_password("merge-pass-123")
    manager.save()
    kept = client_create(actor=manager, name="ООО «Ромашка»", phone="+74951234567", city="Москва")
    twin = client_create(
        actor=manager, name="Romashka LLC", email="info@romashka.example", phone="+74951234567"
    )
    client_create(actor=manager, name="Василёк", city="Тверь")
    Touchpoint.objects.create(client=kept, kind="call", subject="Called about prices")
    Touchpoint.objects.create(client=twin, kind="meeting", subject="Met at the fair")
    duplicates_scan(actor=manager)
    pair = DuplicateCandidate.objects.get()
    page = browser.new_page()
    log_in(page, "merger", "merge-pass-123")

    # A misspelled name in the top search box.
    page.fill("#global-search", "Ромашко")
    results = page.locator("#search-results")
    results.get_by_text("ООО «Ромашка»").wait_for()
    screenshot(page, "search-misspelled")
    # A phone typed another way.
    page.fill("#global-search", "8 495 123 45 67")
    results.get_by_text("Romashka LLC").wait_for()
    assert results.get_by_text("ООО «Ромашка»").is_visible()
    screenshot(page, "search-phone")

    page.goto("/duplicates/")
    assert page.get_by_text("100%").is_visible()
    screenshot(page, "duplicates-list")
    page.click(f"[data-testid=merge-{pair.pk}]")
    page.wait_for_url(f"**/clients/{pair.a_id}/merge/{pair.b_id}/")
    page.check(f"input[name=field_email][value='{twin.pk}']")
    screenshot(page, "merge-side-by-side")
    page.click("[data-testid=merge-submit]")

    page.wait_for_url(f"**/clients/{kept.pk}/history/")
    history = page.locator("[data-testid=history]")
    assert history.get_by_text("merged from Romashka LLC").first.is_visible()
    assert page.get_by_text("Merged from “Romashka LLC”").is_visible()
    screenshot(page, "history-after-merge")
    kept.refresh_from_db()
    assert kept.email == "info@romashka.example"
    assert Touchpoint.objects.filter(client=kept).count() == 2

    page.get_by_role("button", name="Undo the merge").click()
    page.get_by_text("The merge has been undone").wait_for()
    assert Touchpoint.objects.filter(client=twin).count() == 1


def test_client_list_bulk_tags_the_selected_rows(browser):
    manager = UserFactory(
        username="lister", team=TeamFactory(name="Moscow"), role=role("sales_manager")
    )
    manager.set_password("list-pass-123")
    manager.save()
    first = client_create(actor=manager, name="Альфа", city="Москва")
    client_create(actor=manager, name="Бета", city="Тверь")
    page = browser.new_page()
    log_in(page, "lister", "list-pass-123")

    page.goto("/clients/")
    page.check("input[aria-label='Select Альфа']")
    page.select_option("#bulk-action", "tag")
    page.fill("#bulk-tag", "опт")
    page.click("[data-testid=bulk-apply]")

    page.get_by_text("1 client changed.").wait_for()
    screenshot(page, "client-list-bulk")
    assert list(first.tags.values_list("name", flat=True)) == ["опт"]
