"""What the speed-ups of the busiest pages must not change: the client list's times
read exactly as the shared web/_time.html writes them, the card's forms are the same
HTML whether their fields come from the memo or are rendered afresh, and the
server-timing switch adds its header and log line only when it is on."""

from __future__ import annotations

import datetime as dt
import logging
import re

import pytest
from django.forms.renderers import get_default_renderer
from django.template import engines
from django.test import Client as HttpClient
from django.utils import timezone, translation

from lavka.clients.services import client_create
from lavka.clients.services.blocks import contract_create
from lavka.web.views import card as card_views
from lavka.web.views.clients import Times

AGES = [
    dt.timedelta(seconds=20.5),
    dt.timedelta(minutes=7, seconds=30),
    dt.timedelta(hours=3, minutes=20),
    dt.timedelta(days=1, hours=2),
    dt.timedelta(days=9, hours=5),
    dt.timedelta(days=45),
    dt.timedelta(days=400),
    dt.timedelta(days=800, hours=7),
]


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("zone", ["UTC", "Europe/Moscow", "America/New_York"])
def test_list_times_read_as_the_shared_time_template_writes_them(language, zone):
    import zoneinfo

    template = engines["django"].from_string("{% include 'web/_time.html' with value=v %}")
    now = timezone.now()
    with translation.override(language), timezone.override(zoneinfo.ZoneInfo(zone)):
        times = Times()
        for age in AGES * 2:  # the second round reads the memo
            value = now - age
            assert times.html(value) == template.render({"v": value})


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_time_tag_writes_what_the_shared_time_template_writes(language):
    template = engines["django"].from_string("{% include 'web/_time.html' with value=v %}")
    tag = engines["django"].from_string("{% load lavka %}{% time_of v %}")
    now = timezone.now()
    with translation.override(language):
        for value in [None, *(now - age for age in AGES), now + dt.timedelta(days=3, hours=1)]:
            assert tag.render({"v": value}) == template.render({"v": value})


def _html(response):
    # The CSRF token and "N seconds ago" differ from one response to the next; nothing
    # else may.
    html = re.sub(r"[A-Za-z0-9]{64}", "TOKEN", response.content.decode())
    return re.sub(r"<time [^>]*>[^<]*</time>", "<time>", html)


def test_card_forms_are_the_same_from_the_memo_and_rendered_afresh(org, settings):
    client = client_create(actor=org.rep, name="Romashka", currency="EUR")
    contract = contract_create(actor=org.rep, client=client, number="K-1", amount="1200.50")
    http = HttpClient()
    http.force_login(org.rep)
    card = f"/clients/{client.pk}/"
    forms = f"/clients/{client.pk}/card/forms/"
    paths = [
        card,  # with the touchpoint form, field by field
        *(f"{forms}{name}/" for name in ("contract", "address", "contact", "consent", "date")),
        f"{forms}contract/{contract.pk}/",
    ]
    for path in paths:
        http.get(path)

    remembered = [_html(http.get(path)) for path in paths]
    card_views._FIELDS_HTML.clear()
    static = card_views._STATIC_FORMS
    card_views._STATIC_FORMS = ()
    settings.FORM_RENDERER = "django.forms.renderers.DjangoTemplates"
    get_default_renderer.cache_clear()
    try:
        afresh = [_html(http.get(path)) for path in paths]
    finally:
        card_views._STATIC_FORMS = static
        settings.FORM_RENDERER = "lavka.web.renderers.MemoTemplates"
        get_default_renderer.cache_clear()

    assert 'name="kind" id="tp_kind"' in remembered[0]
    assert 'name="contract-number"' in remembered[1]
    assert 'value="K-1"' in remembered[-1]
    assert remembered == afresh


def test_icons_are_drawn_as_the_icon_template_draws_them():
    from lavka.web.templatetags.icon_paths import ICONS

    tag = engines["django"].from_string("{% load lavka %}{% icon name css %}")
    for name in [*ICONS, "no-such-icon"]:
        for css in ("", "sort-icon"):
            svg = tag.render({"name": name, "css": css})
            assert svg.startswith(f'<svg class="icon{" " + css if css else ""}" width="16"')
            assert svg.endswith("</svg>")
            assert ICONS.get(name, '<circle cx="12" cy="12" r="8"/>') in svg


def test_server_timing_is_off_unless_asked_for(org):
    http = HttpClient()
    http.force_login(org.manager)

    response = http.get("/clients/")

    assert "Server-Timing" not in response


def test_server_timing_adds_a_header_and_a_log_line(org, settings, caplog):
    settings.SERVER_TIMING = True
    http = HttpClient()
    http.force_login(org.manager)

    with caplog.at_level(logging.INFO, logger="lavka.timing"):
        response = http.get("/clients/")

    assert re.fullmatch(
        r'app;dur=[\d.]+, cpu;dur=[\d.]+, db;dur=[\d.]+;desc="\d+ queries"',
        response["Server-Timing"],
    )
    lines = [r.getMessage() for r in caplog.records if r.name == "lavka.timing"]
    assert len(lines) == 1
    assert re.fullmatch(
        r"server-timing GET /clients/ 200 app=[\d.]+ms cpu=[\d.]+ms db=[\d.]+ms queries=\d+",
        lines[0],
    )
