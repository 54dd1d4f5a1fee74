"""Demo leads: one web form on the demo company's website and a dozen leads in every
status, so that the leads list, the card and the conversion have something to show.

Called by the demo loader after users and clients exist. Idempotent: nothing is
created when the demo web form is already there. Emails use the reserved `.example`
domain."""

from __future__ import annotations

import random
from typing import Any

from django.db import transaction

from lavka.leads.models import Lead, WebForm
from lavka.leads.services import (
    lead_capture,
    lead_convert,
    lead_create,
    lead_status_set,
    web_form_create,
)

DEMO_FORM = "Заявка с сайта lavka-trade.example"

# (company, contact, email, phone, message, source, utm_campaign, status, reason)
LEADS: list[tuple[str, str, str, str, str, str, str, str, str]] = [
    ("ООО «Северный чай»", "Ольга Миронова", "olga@sever-tea.example", "+7 812 555-01-10",
     "Нужен прайс на зелёный чай оптом.", "web_form", "spring-tea", "new", ""),
    ("", "Кирилл Сафонов", "kirill.safonov@mail.example", "+7 916 555-02-20",
     "Подарочный набор к 8 марта, 15 штук.", "web_form", "gifts", "new", ""),
    ("Кофейня «Зерно»", "Алина Гусева", "alina@zerno.example", "+7 495 555-03-30",
     "Ищем поставщика кофе в зёрнах, 40 кг в месяц.", "web_form", "coffee-b2b", "in_work", ""),
    ("Nordic Office Supply AB", "Erik Lindqvist", "erik@nordic-office.example", "",
     "Interested in tea for 12 offices in Sweden.", "email", "", "in_work", ""),
    ("ИП Ахмедов", "Рустам Ахмедов", "", "+7 987 555-05-50",
     "Позвонил по объявлению, нужен чай для кафе.", "phone", "", "qualified", ""),
    ("Гостиница «Волга»", "Наталья Егорова", "egorova@volga-hotel.example", "+7 8442 55-06-60",
     "Завтраки на 120 номеров: чай и кофе.", "event", "horeca-fair", "qualified", ""),
    ("", "Test Test", "test@test.example", "",
     "asdf", "web_form", "", "disqualified", "Тестовая заявка, не клиент"),
    ("ООО «Ромашка Плюс»", "Сергей Бойко", "boyko@romashka-plus.example", "+7 903 555-08-80",
     "Перепродажа, ищут эксклюзив на регион.", "referral", "", "disqualified",
     "Эксклюзив на регион не даём"),
    ("Бизнес-центр «Меридиан»", "Марина Лаптева", "lapteva@meridian.example", "+7 495 555-09-90",
     "Кулеры и чай для арендаторов.", "api", "", "converted", ""),
    ("", "Dmitri Volkov", "d.volkov@inbox.example", "+7 921 555-10-01",
     "Want a tasting set for home.", "web_form", "spring-tea", "new", ""),
    ("Школа №57", "Елена Соколова", "sokolova@school57.example", "",
     "Чай для учительской, безналичный расчёт.", "manual", "", "in_work", ""),
]  # fmt: skip


@transaction.atomic
def leads_demo_load(*, users: dict[str, Any], rng: random.Random) -> int:
    """The demo web form (its leads go to "anna") and the demo leads, shared between
    the Moscow reps; one is converted into a client and a deal. Returns the number of
    leads created (0 when the demo form exists already)."""
    if WebForm.objects.filter(name=DEMO_FORM).exists():
        return 0
    admin, anna = users["admin"], users["anna"]
    form = web_form_create(
        actor=admin,
        name=DEMO_FORM,
        owner=anna,
        fields=["company", "contact_name", "email", "phone", "message"],
        success_message="Спасибо! Мы свяжемся с вами в течение рабочего дня.",
        allowed_origins="https://lavka-trade.example",
        language="ru",
    )
    reps = [users["anna"], users["ivan"]]
    created = 0
    for index, (
        company,
        contact,
        email,
        phone,
        message,
        source,
        campaign,
        status,
        reason,
    ) in enumerate(LEADS):
        data = {
            "company": company,
            "contact_name": contact,
            "email": email,
            "phone": phone,
            "message": message,
        }
        if source == Lead.Source.WEB_FORM:
            captured = lead_capture(
                form=form,
                data={**data, "utm_source": "yandex" if campaign else "", "utm_campaign": campaign},
                ip=f"192.0.2.{index + 1}",
                page_url="https://lavka-trade.example/contacts",
            )
            lead = captured.lead
            owner = anna
        else:
            owner = rng.choice(reps)
            lead = lead_create(actor=owner, source=source, campaign=campaign, **data)
        assert lead is not None
        created += 1
        if status == Lead.Status.CONVERTED:
            lead_convert(
                actor=owner, lead=lead, create_new=True, amount=rng.choice([90000, 240000])
            )
        elif status != Lead.Status.NEW:
            lead_status_set(actor=owner, lead=lead, status=status, reason=reason)
    return created
