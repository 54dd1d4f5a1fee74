"""A user of another team cannot open or change a record by URL: 404, nothing changes."""

from __future__ import annotations

from django.test import Client as HttpClient

from lavka.audit.models import AuditEvent
from tests.factories import ClientFactory


def test_other_teams_client_is_404_by_url_and_nothing_changes(org):
    theirs = ClientFactory(owner=org.spb_rep, name="Secret")
    browser = HttpClient()
    browser.force_login(org.rep)
    events_before = AuditEvent.objects.count()

    shown = browser.get(f"/clients/{theirs.pk}/")
    edit_form = browser.get(f"/clients/{theirs.pk}/edit/")
    edited = browser.post(f"/clients/{theirs.pk}/edit/", {"kind": "organisation", "name": "Mine"})
    deleted = browser.post(f"/clients/{theirs.pk}/delete/")

    assert [r.status_code for r in (shown, edit_form, edited, deleted)] == [404, 404, 404, 404]
    theirs.refresh_from_db()
    assert (theirs.name, theirs.deleted_at, theirs.version) == ("Secret", None, 1)
    assert AuditEvent.objects.count() == events_before


def test_owner_can_edit_and_the_change_is_in_the_history(org):
    mine = ClientFactory(owner=org.rep, name="Old")
    browser = HttpClient()
    browser.force_login(org.rep)

    response = browser.post(
        f"/clients/{mine.pk}/edit/",
        {"kind": "organisation", "name": "New", "email": "", "version": 1},
        follow=True,
    )

    assert response.status_code == 200
    mine.refresh_from_db()
    assert mine.name == "New"
    assert AuditEvent.objects.for_record(mine).get(action="update").changes["name"] == [
        "Old",
        "New",
    ]


def test_stale_form_does_not_overwrite_a_newer_change(org):
    mine = ClientFactory(owner=org.rep, name="Old")
    browser = HttpClient()
    browser.force_login(org.rep)
    browser.post(
        f"/clients/{mine.pk}/edit/", {"kind": "organisation", "name": "First", "version": 1}
    )

    response = browser.post(
        f"/clients/{mine.pk}/edit/", {"kind": "organisation", "name": "Second", "version": 1}
    )

    assert response.status_code == 422
    assert "changed by someone else" in response.content.decode()
    mine.refresh_from_db()
    assert mine.name == "First"


def test_settings_pages_are_closed_to_non_administrators(org):
    browser = HttpClient()
    browser.force_login(org.rep)

    statuses = [
        browser.get(url).status_code
        for url in ("/settings/users/", "/settings/roles/", "/settings/audit/", "/settings/trash/")
    ]

    assert statuses == [403, 403, 403, 403]
