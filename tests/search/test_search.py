"""The one-box search: typos, word forms, transliteration, phones, tax ids, contract
numbers, Cyrillic case, and never what the viewer may not see."""

from __future__ import annotations

import pytest

from lavka.clients.models import Contract, Person
from lavka.clients.services import client_create
from lavka.clients.services.core import search_text_refresh
from lavka.search.selectors import search_everything


def names(results):
    return [hit.obj.name for hit in results.clients]


@pytest.fixture
def base(org):
    romashka = client_create(
        actor=org.rep,
        name="ООО «Ромашка»",
        phone="+74951234567",
        inn="7707083893",
        email="info@romashka.ru",
        city="Москва",
    )
    client_create(actor=org.rep, name="Василёк", phone="+78122223344", city="Санкт-Петербург")
    client_create(actor=org.rep, name="Northwind Traders", email="hello@northwind.com")
    return romashka


def test_finds_a_client_by_a_misspelled_name(org, base):
    results = search_everything(viewer=org.rep, query="Ромашко")

    assert names(results) == ["ООО «Ромашка»"]
    assert results.clients[0].exact is False


def test_finds_a_client_by_another_word_form(org, base):
    assert names(search_everything(viewer=org.rep, query="ромашки")) == ["ООО «Ромашка»"]


def test_finds_a_cyrillic_client_by_its_latin_spelling(org, base):
    assert names(search_everything(viewer=org.rep, query="Romashka")) == ["ООО «Ромашка»"]


def test_finds_a_latin_client_by_its_cyrillic_spelling(org, base):
    assert names(search_everything(viewer=org.rep, query="нортвинд")) == ["Northwind Traders"]


def test_lower_case_cyrillic_finds_upper_case_name(org, base):
    results = search_everything(viewer=org.rep, query="ромашка")

    assert names(results) == ["ООО «Ромашка»"]
    assert results.clients[0].exact is True


def test_yo_and_ye_are_the_same_letter(org, base):
    assert names(search_everything(viewer=org.rep, query="василек")) == ["Василёк"]


@pytest.mark.parametrize(
    "typed", ["8 495 123 45 67", "+7(495)1234567", "4951234567", "+7 495 123-45-67", "1234567"]
)
def test_finds_a_client_by_a_phone_typed_in_any_format(org, base, typed):
    assert names(search_everything(viewer=org.rep, query=typed)) == ["ООО «Ромашка»"]


def test_finds_a_client_by_inn(org, base):
    assert names(search_everything(viewer=org.rep, query="7707083893")) == ["ООО «Ромашка»"]


def test_finds_a_client_by_email(org, base):
    assert names(search_everything(viewer=org.rep, query="INFO@romashka")) == ["ООО «Ромашка»"]


def test_finds_a_contract_and_its_client_by_contract_number(org, base):
    Contract.objects.create(client=base, number="Д-2024/17", subject="Поставка")
    search_text_refresh(base)

    results = search_everything(viewer=org.rep, query="Д-2024/17")

    assert [c.obj.number for c in results.contracts] == ["Д-2024/17"]
    assert names(results) == ["ООО «Ромашка»"]


def test_finds_a_person_by_name(org, base):
    Person.objects.create(
        first_name="Иван",
        last_name="Петров",
        owner=org.rep,
        team=org.rep.team,
        search_text="иван петров",
    )

    results = search_everything(viewer=org.rep, query="Петров")

    assert [p.obj.full_name for p in results.people] == ["Иван Петров"]


def test_finds_a_person_of_another_team_who_works_at_a_client_the_viewer_sees(org, base):
    """The same people as the card and the API: a person owned by another team but
    employed at one of the viewer's clients is found; one who is not, is not."""
    from lavka.clients.models import Employment

    colleague_of_client = Person.objects.create(
        first_name="Анна",
        last_name="Сидорова",
        owner=org.spb_rep,
        team=org.spb_rep.team,
        search_text="анна сидорова",
    )
    Employment.objects.create(person=colleague_of_client, organisation=base, job_title="CFO")
    Person.objects.create(
        first_name="Ольга",
        last_name="Сидорова",
        owner=org.spb_rep,
        team=org.spb_rep.team,
        search_text="ольга сидорова",
    )

    found = search_everything(viewer=org.rep, query="Сидорова")

    assert [p.obj.full_name for p in found.people] == ["Анна Сидорова"]
    assert len(search_everything(viewer=org.spb_rep, query="Сидорова").people) == 2


def test_never_returns_clients_the_viewer_cannot_see(org, base):
    client_create(actor=org.spb_rep, name="Ромашка Петербург")

    assert names(search_everything(viewer=org.rep, query="ромашка")) == ["ООО «Ромашка»"]
    assert names(search_everything(viewer=org.spb_rep, query="ромашка")) == ["Ромашка Петербург"]
    assert names(search_everything(viewer=org.nobody, query="ромашка")) == []


def test_never_returns_contracts_of_clients_the_viewer_cannot_see(org, base):
    Contract.objects.create(client=base, number="SECRET-1")

    assert search_everything(viewer=org.spb_rep, query="SECRET-1").contracts == []


def test_deleted_clients_are_not_found(org, base):
    from lavka.clients.services import client_delete

    client_delete(actor=org.rep, client=base)

    assert names(search_everything(viewer=org.rep, query="ромашка")) == []


def test_an_edited_name_is_found_by_its_new_spelling(org, base):
    from lavka.clients.services import client_update

    client_update(actor=org.rep, client=base, name="Лютик", email="")

    assert names(search_everything(viewer=org.rep, query="лютик")) == ["Лютик"]
    assert names(search_everything(viewer=org.rep, query="василек")) == ["Василёк"]


def test_an_empty_query_finds_nothing(org, base):
    assert search_everything(viewer=org.rep, query="  ").total == 0


def test_search_page_groups_and_highlights(client, org, base):
    client.force_login(org.rep)

    response = client.get("/search/", {"q": "ромашк"}, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<mark>Ромашк</mark>а" in html
    assert 'data-group="clients"' in html


def test_a_query_shorter_than_three_characters_asks_for_more(org, base):
    results = search_everything(viewer=org.rep, query="ро")

    assert (results.too_short, results.total) == (True, 0)
