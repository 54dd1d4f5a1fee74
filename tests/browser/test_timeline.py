"""A rep keeps in touch: logs a call on an overdue client's card without a page
reload, plans the next step, completes it; then My tasks and the calendar page."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from lavka.clients.models import Client, Task, Touchpoint
from tests.browser.conftest import log_in, screenshot
from tests.factories import ClientFactory, TeamFactory, UserFactory, role, tier

PASSWORD = "timeline-pass-2026"


def make_rep():
    rep = UserFactory(
        username="tlrep",
        first_name="Olga",
        last_name="Smirnova",
        team=TeamFactory(name="Sales"),
        role=role("sales_rep"),
    )
    rep.set_password(PASSWORD)
    rep.save()
    return rep


def test_log_a_call_plan_a_task_and_complete_it_on_the_card(browser):
    rep = make_rep()
    client = ClientFactory(owner=rep, name="Ромашка", tier=tier("vip"))
    Client.objects.filter(pk=client.pk).update(
        last_contact_at=timezone.now() - dt.timedelta(days=20)
    )
    page = browser.new_page()
    log_in(page, "tlrep", PASSWORD)
    page.click("[data-testid=lang-en]")
    page.wait_for_selector("html[lang=en]")
    page.goto(f"/clients/{client.pk}/")
    page.wait_for_selector("[data-testid=log-touchpoint]")
    assert page.locator("[data-testid=out-of-touch]").is_visible()
    page.evaluate("window.notReloaded = true")
    screenshot(page, "timeline-card-overdue-en")

    page.select_option("#tp_kind", "call")
    page.select_option("#tp_outcome", "reached")
    page.fill("#tp_subject", "Agreed on spring prices")
    page.click("[data-testid=log-submit]")

    first = page.locator("[data-testid=touchpoint]").first
    first.get_by_text("Agreed on spring prices").wait_for()
    assert page.evaluate("window.notReloaded") is True
    assert "Reached" in first.inner_text()
    assert page.locator("[data-testid=out-of-touch]").count() == 0
    assert page.locator("#timeline-status").inner_text() == "Touchpoint logged."
    assert Touchpoint.objects.get(client=client).created_by == rep

    page.click("[data-testid=plan-details] summary")
    page.fill("#task_title", "Send the contract")
    due = timezone.localtime() + dt.timedelta(days=2)
    page.fill("#task_due_at", due.strftime("%Y-%m-%dT10:00"))
    page.click("[data-testid=plan-submit]")
    task_row = page.locator("[data-testid=task]", has_text="Send the contract")
    task_row.wait_for()
    assert "Send the contract" in page.locator("[data-testid=next-step]").inner_text()
    assert page.evaluate("window.notReloaded") is True
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "timeline-card-en")

    task_row.get_by_role("button", name="Done").click()
    page.locator("[data-testid=no-open-tasks]").wait_for()
    assert page.evaluate("window.notReloaded") is True
    assert Task.objects.get(client=client).completed_by == rep


def test_my_tasks_and_calendar_in_russian(browser):
    rep = make_rep()
    client = ClientFactory(owner=rep, name="Ромашка")
    now = timezone.now()
    Task.objects.create(
        client=client,
        title="Позвонить Анне",
        due_at=now - dt.timedelta(hours=3),
        assignee=rep,
        created_by=rep,
    )
    Task.objects.create(
        client=client,
        title="Отправить договор",
        due_at=now + dt.timedelta(days=3),
        assignee=rep,
        created_by=rep,
    )
    page = browser.new_page(locale="ru-RU")
    log_in(page, "tlrep", PASSWORD)
    page.click("[data-testid=lang-ru]")
    page.wait_for_selector("html[lang=ru]")

    page.goto("/tasks/")
    overdue = page.locator("[data-testid=tasks-overdue]")
    assert "Позвонить Анне" in overdue.inner_text()
    assert "Отправить договор" in page.locator("[data-testid=tasks-upcoming]").inner_text()
    screenshot(page, "timeline-my-tasks-ru")
    overdue.locator("[data-testid=complete-my-task]").click()
    page.locator("[data-testid=tasks-overdue]").wait_for(state="detached")

    page.goto(f"/clients/{client.pk}/")
    page.wait_for_selector("[data-testid=log-touchpoint]")
    screenshot(page, "timeline-card-ru")
    page.set_viewport_size({"width": 390, "height": 800})
    screenshot(page, "timeline-card-ru-narrow")
    page.set_viewport_size({"width": 1280, "height": 800})

    page.goto("/calendar/")
    page.click("[data-testid=rotate-feed]")
    url = page.locator("[data-testid=feed-url]").input_value()
    rep.refresh_from_db()
    assert url.endswith(f"/calendar/{rep.calendar_token}.ics")
    screenshot(page, "timeline-calendar-ru")
