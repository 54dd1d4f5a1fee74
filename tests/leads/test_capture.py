"""The public endpoint of a web form: a lead from a website, the honeypot, the rate
limits, the allowed websites, CORS, size limits, and messages in the form's language."""

from __future__ import annotations

import json

import pytest
from django.test import Client as HttpClient

from lavka.audit.models import AuditEvent, OutboxEvent
from lavka.leads.models import Lead
from lavka.leads.services import capture as capture_module
from lavka.leads.services import web_form_update

pytestmark = pytest.mark.django_db

SITE = "https://shop.example"


@pytest.fixture
def http():
    return HttpClient()


def url(form):
    return f"/f/{form.key}/submit/"


def send(http, form, data, *, origin=SITE, ip="203.0.113.5", **headers):
    extra = {"REMOTE_ADDR": ip, **headers}
    if origin:
        extra["HTTP_ORIGIN"] = origin
    return http.post(url(form), data, **extra)


def test_a_website_form_creates_a_lead_for_the_forms_owner(http, web_form, org):
    response = send(
        http,
        web_form,
        {
            "company": "ООО Ромашка",
            "contact_name": "Иван Петров",
            "email": "Ivan@Romashka.example",
            "phone": "+7 (495) 123-45-67",
            "message": "Нужен чай в офис",
            "utm_source": "yandex",
            "utm_medium": "cpc",
            "utm_campaign": "spring-tea",
            "page_url": "https://shop.example/contacts",
        },
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 201
    assert response.json() == {"ok": True, "message": "Спасибо! Мы перезвоним."}
    assert response["Access-Control-Allow-Origin"] == SITE
    lead = Lead.objects.get()
    assert (lead.source, lead.web_form, lead.owner, lead.team) == (
        "web_form",
        web_form,
        org.rep,
        org.moscow,
    )
    assert (lead.email, lead.phone, lead.campaign, lead.utm_source, lead.utm_medium) == (
        "ivan@romashka.example",
        "+74951234567",
        "spring-tea",
        "yandex",
        "cpc",
    )
    assert lead.page_url == "https://shop.example/contacts"
    event = AuditEvent.objects.get(
        object_id=str(lead.pk), action="create", content_type__model="lead"
    )
    assert (event.actor, event.actor_repr, event.meta["ip"]) == (None, "web_form", "203.0.113.5")
    assert OutboxEvent.objects.filter(kind="lead.created", payload__lead_id=lead.pk).exists()


def test_json_bodies_are_accepted_too(http, web_form):
    response = http.post(
        url(web_form),
        json.dumps({"contact_name": "Анна", "phone": "89161234567"}),
        content_type="application/json",
        HTTP_ORIGIN=SITE,
    )

    assert response.status_code == 201
    assert Lead.objects.get().phone == "+79161234567"


def test_without_javascript_the_answer_is_a_thank_you_page(http, web_form):
    response = send(http, web_form, {"contact_name": "Анна", "email": "anna@x.example"})

    assert response.status_code == 200
    assert "Спасибо! Мы перезвоним." in response.content.decode()
    assert Lead.objects.count() == 1


def test_a_bot_filling_the_honeypot_gets_a_normal_success_but_no_lead(http, web_form):
    response = send(
        http,
        web_form,
        {"contact_name": "Bot", "email": "bot@spam.example", "website": "http://spam.example"},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 201
    assert response.json() == {"ok": True, "message": "Спасибо! Мы перезвоним."}
    assert Lead.objects.count() == 0


def test_validation_errors_come_in_russian_whatever_the_browser_language(http, web_form):
    response = send(
        http,
        web_form,
        {"contact_name": "Анна" * 60, "email": "не почта", "phone": "12"},
        HTTP_ACCEPT="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 422
    body = response.json()
    assert body["ok"] is False
    assert body["fields"] == {
        "contact_name": ["Не более 200 символов."],
        "email": ["«не почта» — некорректный адрес электронной почты."],
        "phone": ["«12» — некорректный номер телефона."],
    }
    assert Lead.objects.count() == 0


def test_a_submission_without_a_name_or_a_way_to_answer_names_both_fields(http, web_form):
    response = send(http, web_form, {"message": "Позвоните"}, HTTP_ACCEPT="application/json")

    assert response.status_code == 422
    assert sorted(response.json()["fields"]) == ["contact_name", "email"]
    assert Lead.objects.count() == 0


def test_without_javascript_errors_show_next_to_the_fields_with_the_values_kept(http, web_form):
    response = send(http, web_form, {"contact_name": "Анна", "email": "не почта"})

    assert response.status_code == 422
    page = response.content.decode()
    assert "«не почта» — некорректный адрес электронной почты." in page
    assert 'value="Анна"' in page
    assert Lead.objects.count() == 0


def test_another_website_is_refused_and_gets_no_cors_headers(http, web_form):
    response = send(
        http,
        web_form,
        {"contact_name": "Анна", "email": "anna@x.example"},
        origin="https://evil.example",
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response
    assert Lead.objects.count() == 0


def test_the_hosted_page_of_lavka_itself_is_always_allowed(http, web_form):
    response = send(
        http,
        web_form,
        {"contact_name": "Анна", "email": "anna@x.example"},
        origin="http://testserver",
    )

    assert response.status_code == 200
    assert Lead.objects.count() == 1


def test_a_preflight_from_an_allowed_website_is_answered(http, web_form):
    allowed = http.options(url(web_form), HTTP_ORIGIN="https://www.shop.example")
    other = http.options(url(web_form), HTTP_ORIGIN="https://evil.example")

    assert allowed.status_code == 204
    assert allowed["Access-Control-Allow-Origin"] == "https://www.shop.example"
    assert "POST" in allowed["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Origin" not in other


def test_one_address_is_limited_per_form(http, web_form, monkeypatch):
    monkeypatch.setattr(capture_module, "IP_LIMIT", 3)
    data = {"contact_name": "Анна", "email": "anna@x.example"}

    codes = [
        send(http, web_form, data, HTTP_ACCEPT="application/json").status_code for _ in range(4)
    ]
    other_address = send(http, web_form, data, ip="198.51.100.7", HTTP_ACCEPT="application/json")

    assert codes == [201, 201, 201, 429]
    assert other_address.status_code == 201
    assert Lead.objects.count() == 4


def test_a_form_is_limited_across_addresses(http, web_form, monkeypatch):
    monkeypatch.setattr(capture_module, "FORM_LIMIT", 2)
    data = {"contact_name": "Анна", "email": "anna@x.example"}

    codes = [
        send(http, web_form, data, ip=f"198.51.100.{i}", HTTP_ACCEPT="application/json").status_code
        for i in range(3)
    ]

    assert codes == [201, 201, 429]
    throttled = send(http, web_form, data, ip="198.51.100.9", HTTP_ACCEPT="application/json")
    assert (throttled.status_code, throttled.json()["code"]) == (429, "too_many_submissions")
    assert Lead.objects.count() == 2


def test_too_large_a_submission_is_refused_unread(http, web_form):
    response = send(
        http,
        web_form,
        {"contact_name": "Анна", "email": "anna@x.example", "message": "x" * 20_000},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 413
    assert Lead.objects.count() == 0


def test_a_too_long_field_is_named(http, web_form):
    response = send(
        http,
        web_form,
        {"contact_name": "Анна" * 60, "email": "anna@x.example"},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 422
    assert response.json()["fields"] == {"contact_name": ["Не более 200 символов."]}


def test_an_unknown_or_switched_off_form_is_not_found(http, web_form, org):
    web_form_update(actor=org.admin, form=web_form, is_active=False)

    switched_off = send(http, web_form, {"contact_name": "Анна", "email": "a@x.example"})
    unknown = http.post("/f/nope/submit/", {"contact_name": "Анна"})

    assert (switched_off.status_code, unknown.status_code) == (404, 404)
    assert Lead.objects.count() == 0


def test_the_endpoint_needs_no_csrf_token(web_form):
    strict = HttpClient(enforce_csrf_checks=True)

    response = strict.post(
        url(web_form), {"contact_name": "Анна", "email": "a@x.example"}, HTTP_ORIGIN=SITE
    )

    assert response.status_code == 200
    assert Lead.objects.count() == 1


def test_the_hosted_page_renders_the_form_in_its_language(http, web_form):
    response = http.get(f"/f/{web_form.key}/", HTTP_ACCEPT_LANGUAGE="en")

    page = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="ru">' in page
    assert f'for="lavka-{web_form.pk}-phone">Телефон</label>' in page
    assert f'action="http://testserver/f/{web_form.key}/submit/"' in page
    assert 'name="website"' in page


def test_a_form_showing_only_the_phone_puts_the_contact_message_under_it(http, web_form, org):
    web_form_update(actor=org.admin, form=web_form, fields=["contact_name", "phone"])

    response = send(
        http,
        web_form,
        {"contact_name": "Анна", "email": "x@x.example"},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["phone"]
