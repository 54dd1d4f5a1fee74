"""An administrator's journeys: a background export with its progress bar, the audit
log of a change, the trash, and editing what a role may do."""

from __future__ import annotations

from lavka.clients.models import Client
from lavka.demo.data import DEMO_PASSWORD, load_demo
from lavka.identity.models import Role, User
from tests.browser.conftest import log_in, screenshot


def test_export_runs_as_a_job_with_a_progress_bar_and_a_download(browser):
    load_demo(compact=True)
    page = browser.new_page()
    log_in(page, "manager", DEMO_PASSWORD)
    page.goto("/clients/")

    page.get_by_role("button", name="Export CSV").click()

    page.wait_for_url("**/jobs/*/")
    bar = page.get_by_role("progressbar")
    bar.wait_for()
    page.wait_for_function(
        "document.querySelector('[role=progressbar]').getAttribute('aria-valuenow') === '100'"
    )
    with page.expect_download() as download:
        page.get_by_role("link", name="Download").click()
    with open(download.value.path(), encoding="utf-8-sig") as fh:
        lines = fh.read().splitlines()
    manager = User.objects.get(username="manager")
    moscow = Client.objects.filter(team=manager.team).count()
    assert moscow > 0
    assert len(lines) - 1 == moscow
    screenshot(page, "job-finished-en")


def test_admin_edits_a_client_sees_history_deletes_and_restores_it(browser):
    load_demo(compact=True)
    client = Client.objects.filter(owner__username="ivan").first()
    page = browser.new_page()
    log_in(page, "admin", DEMO_PASSWORD)
    page.click("[data-testid=lang-en]")
    page.wait_for_selector("html[lang=en]")

    page.goto(f"/clients/{client.pk}/edit/")
    page.fill("input[name=city]", "Казань")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"**/clients/{client.pk}/")
    assert page.get_by_text("Казань").first.is_visible()
    history = page.locator("#history-title").locator("..")
    assert "Казань" in history.inner_text()

    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete").click()
    page.wait_for_url("**/clients/")
    assert not Client.objects.filter(pk=client.pk).exists()

    page.goto("/settings/trash/")
    page.get_by_role("button", name="Restore").first.click()
    page.wait_for_url("**/settings/trash/**")
    assert Client.objects.filter(pk=client.pk).exists()

    page.goto(f"/settings/audit/?object={client.pk}&model=clients.client")
    assert page.locator("table").get_by_text("Restored").first.is_visible()
    screenshot(page, "audit-en")


def test_admin_changes_a_roles_access_and_the_navigation_follows(browser):
    load_demo(compact=True)
    admin_page = browser.new_page()
    log_in(admin_page, "admin", DEMO_PASSWORD)
    admin_page.click("[data-testid=lang-en]")
    admin_page.wait_for_selector("html[lang=en]")
    role = Role.objects.get(code="service_agent")

    admin_page.goto(f"/settings/roles/{role.pk}/")
    admin_page.select_option("select[name=analytics__read]", "all")
    admin_page.get_by_role("button", name="Save").click()
    admin_page.wait_for_url("**/settings/roles/")

    agent_page = browser.new_page()
    log_in(agent_page, "sergey", DEMO_PASSWORD)
    assert agent_page.locator("nav#main-nav a[data-nav=analytics]").count() == 1
