"""Web pages: the client list (filters, sort, bulk actions, saved views, a constant
number of queries), duplicates, the side-by-side merge, history and undo."""

from __future__ import annotations

import pytest

from lavka.audit.models import AuditEvent
from lavka.clients.models import Client, ClientMerge, DuplicateCandidate, SavedView, Tier
from lavka.clients.services import client_create
from lavka.clients.services.merge import client_merge
from tests.factories import ClientFactory


@pytest.fixture
def page_of_clients(org):
    for i in range(12):
        client_create(
            actor=org.manager,
            name=f"Клиент {i:02}",
            city="Москва" if i % 2 else "Тверь",
            tags=["опт"] if i % 3 == 0 else [],
        )


def rows(response):
    return [c.name for c in response.context["page"].clients]


def test_list_is_sorted_and_filtered(client, org, page_of_clients):
    client.force_login(org.manager)

    by_name_desc = client.get("/clients/", {"sort": "-name"})
    tagged = client.get("/clients/", {"tag": "опт", "city": "x"})
    searched = client.get("/clients/", {"q": "клиент 05"})

    assert rows(by_name_desc)[:2] == ["Клиент 11", "Клиент 10"]
    assert rows(tagged) == ["Клиент 00", "Клиент 03", "Клиент 06", "Клиент 09"]
    assert rows(searched)[0] == "Клиент 05"


@pytest.mark.parametrize("size", [5, 50])
def test_list_page_takes_the_same_few_queries_whatever_its_size(
    client, org, django_assert_max_num_queries, size
):
    for i in range(size):
        client_create(actor=org.manager, name=f"C{i}", tags=["a", "b"])
    client.force_login(org.manager)

    with django_assert_max_num_queries(12):
        response = client.get("/clients/", {"sort": "-updated_at"})

    assert len(rows(response)) == size


def test_list_never_counts_the_whole_table(client, org, page_of_clients):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(org.manager)
    with CaptureQueriesContext(connection) as queries:
        client.get("/clients/")

    assert not [q for q in queries if "COUNT(" in q["sql"].upper() and "clients_client" in q["sql"]]


def test_bulk_set_tier_changes_only_what_the_user_may_change(client, org):
    mine = client_create(actor=org.rep, name="Мой")
    theirs = client_create(actor=org.colleague, name="Чужой")
    vip = Tier.objects.get(code="vip")
    client.force_login(org.rep)

    response = client.post(
        "/clients/bulk/",
        {"action": "tier", "value_tier": vip.pk, "ids": [mine.pk, theirs.pk]},
        follow=True,
    )

    assert [str(m) for m in response.context["messages"]] == [
        "1 client changed. 1 was left as it was: you may not change it."
    ]
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.tier_id, theirs.tier_id != vip.pk) == (vip.pk, True)


def test_bulk_add_tag_assign_and_delete(client, org):
    a = client_create(actor=org.manager, name="A", tags=["old"])
    b = client_create(actor=org.manager, name="B")
    client.force_login(org.manager)

    client.post("/clients/bulk/", {"action": "tag", "value_tag": "new", "ids": [a.pk, b.pk]})
    client.post("/clients/bulk/", {"action": "assign", "value_assign": org.rep.pk, "ids": [a.pk]})
    client.post("/clients/bulk/", {"action": "delete", "ids": [b.pk]})

    a.refresh_from_db()
    assert sorted(a.tags.values_list("name", flat=True)) == ["new", "old"]
    assert a.owner == org.rep
    assert not Client.objects.filter(pk=b.pk).exists()


def test_bulk_export_of_the_selected_rows(client, org):
    a = client_create(actor=org.manager, name="=cmd()")
    client_create(actor=org.manager, name="Not selected")
    client.force_login(org.manager)

    response = client.post("/clients/bulk/", {"action": "export", "ids": [a.pk]})

    lines = response.content.decode("utf-8-sig").splitlines()
    assert len(lines) == 2
    assert lines[1].split(",")[2] == "'=cmd()"


def test_saved_view_is_saved_and_listed_as_a_tab(client, org, page_of_clients):
    client.force_login(org.manager)

    response = client.post(
        "/clients/", {"view_name": "Опт", "tag": "опт", "sort": "-name", "view_shared": "on"}
    )
    view = SavedView.objects.get()
    listed = client.get(response["Location"])

    assert (view.name, view.filters, view.is_shared) == (
        "Опт",
        {"tag": "опт", "sort": "-name"},
        True,
    )
    assert rows(listed) == ["Клиент 09", "Клиент 06", "Клиент 03", "Клиент 00"]
    assert 'aria-current="page">Опт' in listed.content.decode()


def test_a_private_view_is_not_shown_to_others(client, org):
    SavedView.objects.create(user=org.manager, name="Private", filters={"kind": "person"})
    client.force_login(org.rep)

    response = client.get("/clients/")

    assert response.context["views"] == []


@pytest.fixture
def twins(org):
    a = client_create(actor=org.manager, name="Ромашка", phone="+74951234567", city="Москва")
    b = client_create(actor=org.manager, name="Romashka", phone="+74951234567", city="Тверь")
    pair = DuplicateCandidate.objects.create(a=a, b=b, score=100, reasons=["phone", "name"])
    return a, b, pair


def test_duplicates_page_lists_pairs_with_score_and_reasons(client, org, twins):
    client.force_login(org.manager)

    html = client.get("/duplicates/").content.decode()

    assert "100%" in html and "same phone" in html and "similar name" in html


def test_dismiss_from_the_page(client, org, twins):
    _a, _b, pair = twins
    client.force_login(org.manager)

    client.post(f"/duplicates/{pair.pk}/dismiss/")

    pair.refresh_from_db()
    assert pair.status == "dismissed"


def test_merge_page_takes_the_picked_fields(client, org, twins):
    a, b, _pair = twins
    client.force_login(org.manager)

    page = client.get(f"/clients/{a.pk}/merge/{b.pk}/")
    response = client.post(
        f"/clients/{a.pk}/merge/{b.pk}/", {"survivor": a.pk, "field_city": b.pk, "field_name": a.pk}
    )

    assert page.status_code == 200
    assert response["Location"] == f"/clients/{a.pk}/history/"
    a.refresh_from_db()
    assert (a.name, a.city) == ("Ромашка", "Тверь")
    assert not Client.objects.filter(pk=b.pk).exists()


def test_history_shows_both_clients_and_undo_works_from_the_audit_log(client, org, twins):
    a, b, _pair = twins
    merge = client_merge(actor=org.manager, survivor=a, merged=b)
    client.force_login(org.admin)

    history = client.get(f"/clients/{a.pk}/history/").content.decode()
    audit = client.get("/settings/audit/", {"action": "merge"}).content.decode()
    client.post(f"/merges/{merge.pk}/undo/", {"next": "/settings/audit/"})

    assert "merged from Romashka" in history
    assert f"undo-merge-{merge.pk}" in audit
    merge.refresh_from_db()
    assert merge.undone_at is not None
    assert Client.objects.filter(pk=b.pk).exists()


def test_undo_by_someone_who_cannot_edit_both_is_refused(client, org, twins):
    a, b, _pair = twins
    merge = client_merge(actor=org.manager, survivor=a, merged=b)
    client.force_login(org.rep)

    response = client.post(f"/merges/{merge.pk}/undo/")

    assert response.status_code == 403
    assert ClientMerge.objects.get().undone_at is None
    assert AuditEvent.objects.filter(action="restore").count() == 0


def test_create_form_warns_about_a_client_that_may_already_exist(client, org):
    client_create(actor=org.rep, name="ООО «Ромашка»", email="info@romashka.ru")
    client.force_login(org.rep)

    html = client.get(
        "/duplicates/check/",
        {"name": "Romashka", "email": "INFO@romashka.ru"},
        HTTP_HX_REQUEST="true",
    ).content.decode()

    assert "This client may already exist" in html
    assert "100%" in html and "same email, similar name" in html


def test_create_form_warning_never_names_a_client_the_user_cannot_see(client, org):
    client_create(actor=org.spb_rep, name="ООО «Ромашка»")
    client.force_login(org.rep)

    html = client.get("/duplicates/check/", {"name": "Ромашка"}).content.decode()

    assert "Ромашка" not in html


def test_list_with_a_two_letter_query_filters_by_substring(client, org, page_of_clients):
    client_create(actor=org.manager, name="Ёж")
    client.force_login(org.manager)

    response = client.get("/clients/", {"q": "еж"})

    assert rows(response) == ["Ёж"]


def test_full_search_page_renders_groups(client, org):
    client_create(actor=org.rep, name="ООО «Ромашка»")
    client.force_login(org.rep)

    html = client.get("/search/", {"q": "ромашка"}).content.decode()

    assert "<mark>Ромашка</mark>" in html and 'data-group="clients"' in html


def test_scan_runs_as_a_background_job(client, org, django_capture_on_commit_callbacks):
    from lavka.jobs.models import Job

    client_create(actor=org.rep, name="Ромашка")
    client_create(actor=org.rep, name="Romashka")
    client.force_login(org.rep)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/duplicates/scan/")

    job = Job.objects.get(kind="clients.duplicates_scan")
    assert response["Location"] == f"/jobs/{job.pk}/"
    assert (job.status, job.result["found"]) == ("succeeded", 1)
    assert DuplicateCandidate.objects.count() == 1


def test_merge_page_values_are_plain_ids_even_past_a_thousand(client, org):
    # Number formatting would write 1,234 (1 234 in Russian) and break the picked fields.
    a = ClientFactory(id=1234, owner=org.manager, name="Ромашка", city="Москва")
    b = ClientFactory(id=5678, owner=org.manager, name="Romashka", city="Тверь")
    client.force_login(org.manager)

    page = client.get(f"/clients/{a.pk}/merge/{b.pk}/")

    html = page.content.decode()
    assert 'name="survivor" value="1234" checked' in html
    assert 'value="5678"' in html
